"""Writes for a councillor's own profile and their requests: council and ward changes, levy
waivers, equality monitoring, and the export and erasure of their personal data."""

import csv
import io
import json
from datetime import date, datetime
from email.utils import parseaddr

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.auth import SESSION_KEY
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q, TextField
from django.db.models.functions import Cast, Lower
from django.utils import timezone

from members.access import CHANGE_ACTION, WAIVER_ACTION, require_serving_councillor
from members.models import (
    Councillor,
    CouncillorImport,
    Decision,
    EqualityMonitoring,
    ErasureRequest,
    ExportLogEntry,
    JoinRequest,
    LevyWaiver,
    Position,
    ProfileChange,
    StaffRole,
    User,
)
from members.services.onboarding import (
    _email_send,
    deciders_in_regions,
    group_offices_end,
    national_staff_to_notify,
    portal_link,
)
from members.signals import personal_data_erased, personal_data_requested
from regions.models import CouncilGroup, GroupOfficer, RegionalRepresentative

USER_FIELDS = ["full_name", "preferred_name"]
COUNCILLOR_FIELDS = [
    "first_elected",
    "term_ends",
    "labour_coop",
    "phone",
    "bio",
    "wants_campaign_mailings",
    "wants_regional_news",
    "wants_training_events",
]
ERASED_NAME = "Erased member"
ERASED_REASON = "Personal data erased."


@transaction.atomic
def profile_update(
    *, councillor: Councillor, changes: dict, positions: list[dict]
) -> ProfileChange | None:
    """Apply a councillor's own edit. Everything applies at once except a change of council or
    ward, which waits for the representative of the new council's region: it becomes the one
    pending change (replacing any earlier one). Returns the pending change, if there is one.

    A councillor who has left may still correct their name, contact details and preferences,
    but asking to move council or ward is refused (PermissionDenied) and nothing is saved."""
    councillor = Councillor.objects.select_for_update().select_related("user").get(pk=councillor.pk)
    council, ward = changes["council"], changes["ward"]
    moves = council.pk != councillor.council_id or ward != councillor.ward
    if moves:
        require_serving_councillor(councillor, action=CHANGE_ACTION)
    user = councillor.user
    for field in USER_FIELDS:
        setattr(user, field, changes[field])
    user._change_reason = "Edited by the councillor"
    user.save(update_fields=USER_FIELDS)
    for field in COUNCILLOR_FIELDS:
        setattr(councillor, field, changes[field])
    councillor._change_reason = "Edited by the councillor"
    councillor.save(update_fields=COUNCILLOR_FIELDS)
    positions_replace(councillor=councillor, positions=positions)

    pending = councillor.pending_changes.filter(status=Decision.PENDING).first()
    if not moves:
        # Back to what they have: nothing left to approve.
        if pending:
            pending.delete()
        return None
    # Saving the profile again with the same request changes nothing for those who decide it.
    asks_anew = pending is None or (pending.council_id, pending.ward) != (council.pk, ward)
    if pending is None:
        pending = ProfileChange(councillor=councillor)
    pending.council, pending.ward, pending.requested_at = council, ward, timezone.now()
    pending._change_reason = "Requested by the councillor"
    pending.save()
    if asks_anew:
        _queue("profile_change_request_notify", pending.pk)
    return pending


def positions_replace(*, councillor: Councillor, positions: list[dict]) -> None:
    """Make the councillor's positions exactly these: rows with an id are updated, rows without
    one are added, and positions not listed are removed."""
    keep = {p["id"] for p in positions if p.get("id")}
    councillor.positions.exclude(pk__in=keep).delete()
    existing = {p.pk: p for p in councillor.positions.filter(pk__in=keep)}
    for row in positions:
        position = existing.get(row.get("id")) or Position(councillor=councillor)
        position.title, position.start_date = row["title"], row.get("start_date")
        position.save()


@transaction.atomic
def profile_change_decide(
    *, change: ProfileChange, by: User, approve: bool, reason: str = ""
) -> ProfileChange:
    """Approve (apply the new council and ward) or refuse (keep the old ones) a pending change.

    A councillor who moves council leaves, that day, the offices they held in their old
    council's Labour group."""
    change = ProfileChange.objects.select_for_update().get(pk=change.pk)
    if change.status != Decision.PENDING:
        raise ValidationError("This change has already been decided.")
    if (
        approve
        and Councillor.objects.filter(pk=change.councillor_id, left_on__isnull=False).exists()
    ):
        raise ValidationError("They are no longer a councillor, so the change cannot be approved.")
    change.decision_record(by=by, approve=approve, reason=reason)
    change._change_reason = f"{change.get_status_display()} by {by}"
    change.save()
    if approve:
        councillor = Councillor.objects.select_for_update().get(pk=change.councillor_id)
        councillor.council_id, councillor.ward = change.council_id, change.ward
        councillor._change_reason = f"Council and ward change approved by {by}"
        councillor.save(update_fields=["council", "ward"])
        group_offices_end(
            user_ids=[councillor.user_id],
            on=timezone.localdate(),
            reason=f"Term ended: moved to another council (approved by {by})",
            by=by,
            councils_kept={councillor.user_id: councillor.council_id},
        )
    _queue("profile_change_decision_notify", change.pk)
    return change


@transaction.atomic
def levy_waiver_apply(*, councillor: Councillor, year: int, circumstances: str) -> LevyWaiver:
    """Apply for a levy waiver for a year. One live (pending or approved) application a year;
    only a serving councillor may apply (PermissionDenied otherwise)."""
    councillor = Councillor.objects.select_for_update().get(pk=councillor.pk)
    require_serving_councillor(councillor, action=WAIVER_ACTION)
    live = councillor.levy_waivers.filter(year=year).exclude(status=Decision.REFUSED)
    if live.exists():
        raise ValidationError(
            f"You already have a levy waiver application for {year}. "
            "You can apply again only if that one is refused."
        )
    waiver = LevyWaiver.objects.create(
        councillor=councillor, year=year, circumstances=circumstances, declaration=True
    )
    _queue("levy_waiver_application_notify", waiver.pk)
    return waiver


@transaction.atomic
def levy_waiver_decide(*, waiver: LevyWaiver, by: User, approve: bool, reason: str = "") -> None:
    waiver = LevyWaiver.objects.select_for_update().get(pk=waiver.pk)
    if waiver.status != Decision.PENDING:
        raise ValidationError("This application has already been decided.")
    if not approve and not reason.strip():
        raise ValidationError("Give a reason for refusing.")
    waiver.decision_record(by=by, approve=approve, reason=reason)
    waiver._change_reason = f"{waiver.get_status_display()} by {by}"
    waiver.save()
    _queue("levy_waiver_decision_notify", waiver.pk)


def _queue(task_name: str, object_id: int) -> None:
    """Queue one of members.tasks once the transaction commits, so the worker finds the row."""
    from members import tasks

    task = getattr(tasks, task_name)
    transaction.on_commit(lambda: task.delay(object_id))


# A notice already sent is remembered this long, so a task run twice sends it once.
NOTICE_REMEMBERED_SECONDS = 30 * 24 * 60 * 60


def notice_send_once(*, key: str, template: str, context: dict, to: User) -> bool:
    """Email one person one notice, unless it went already (a task retried after some of its
    messages were sent, or queued twice). Each person gets a message of their own."""
    key = f"members-notice:{key}:{to.pk}"
    if cache.get(key):
        return False
    _email_send(template=template, context={**context, "recipient": to}, to=to.email)
    cache.set(key, 1, timeout=NOTICE_REMEMBERED_SECONDS)
    return True


def _stamp(moment: datetime) -> str:
    return f"{moment.timestamp():.6f}"


def profile_change_deciders(change: ProfileChange) -> tuple[list[User], bool]:
    """Who is told of a council or ward change request: those who decide for the region of the
    council asked for and for the councillor's present council's region."""
    return deciders_in_regions({change.council.region_id, change.councillor.council.region_id})


def profile_change_request_notify(*, change_id: int) -> int:
    """Tell those who decide a council or ward change that it is waiting. Returns how many were
    emailed (0 once it has been decided or everyone was told)."""
    change = (
        ProfileChange.objects.select_related(
            "councillor__user", "councillor__council__region", "council__region"
        )
        .filter(pk=change_id, status=Decision.PENDING)
        .first()
    )
    if change is None:
        return 0
    deciders, has_representative = profile_change_deciders(change)
    context = {
        "change": change,
        "councillor": change.councillor,
        "has_representative": has_representative,
        "link": portal_link("decisions_change", change.pk),
    }
    key = f"change-request:{change.pk}:{_stamp(change.requested_at)}"
    return sum(
        notice_send_once(
            key=key, template="members/email/decision_change_requested", context=context, to=to
        )
        for to in deciders
    )


def _councillor_to_notify(councillor: Councillor) -> User | None:
    # Nobody is written to once their account is closed (or their data erased).
    return councillor.user if councillor.user.is_active else None


def _decision_notify(decided, *, key: str, template: str, context: dict) -> int:
    """Tell the councillor a decided request's outcome (with the reason given), once per
    decision. Returns 1 if they were emailed."""
    to = decided and _councillor_to_notify(decided.councillor)
    if to is None:
        return 0
    context = {**context, "approved": decided.status == Decision.APPROVED}
    key = f"{key}:{decided.pk}:{_stamp(decided.decided_at)}"
    return int(notice_send_once(key=key, template=template, context=context, to=to))


def profile_change_decision_notify(*, change_id: int) -> int:
    """Tell the councillor whether their council or ward change was approved, with the reason
    given. Returns 1 if they were emailed."""
    change = (
        ProfileChange.objects.select_related("councillor__user", "council")
        .filter(pk=change_id)
        .exclude(status=Decision.PENDING)
        .first()
    )
    return _decision_notify(
        change,
        key="change-decision",
        template="members/email/decision_change_decided",
        context={"change": change, "link": portal_link("profile")},
    )


def levy_waiver_application_notify(*, waiver_id: int) -> int:
    """Tell the national office staff that a levy waiver application is waiting. The message
    names the applicant but leaves their circumstances to the portal."""
    waiver = (
        LevyWaiver.objects.select_related("councillor__user", "councillor__council")
        .filter(pk=waiver_id, status=Decision.PENDING)
        .first()
    )
    if waiver is None:
        return 0
    context = {"waiver": waiver, "link": portal_link("decisions_waiver", waiver.pk)}
    return sum(
        notice_send_once(
            key=f"waiver-applied:{waiver.pk}",
            template="members/email/waiver_applied",
            context=context,
            to=to,
        )
        for to in national_staff_to_notify()
    )


def levy_waiver_decision_notify(*, waiver_id: int) -> int:
    """Tell the councillor the decision on their levy waiver application (and the reason for a
    refusal). Returns 1 if they were emailed."""
    waiver = (
        LevyWaiver.objects.select_related("councillor__user")
        .filter(pk=waiver_id)
        .exclude(status=Decision.PENDING)
        .first()
    )
    return _decision_notify(
        waiver,
        key="waiver-decision",
        template="members/email/waiver_decided",
        context={"waiver": waiver, "link": portal_link("levy_waiver")},
    )


def national_office_email() -> str:
    """The address people are told to write to: NATIONAL_OFFICE_EMAIL if set, otherwise the
    address the portal's mail comes from."""
    configured = getattr(settings, "NATIONAL_OFFICE_EMAIL", "")
    return configured or parseaddr(settings.DEFAULT_FROM_EMAIL)[1]


@transaction.atomic
def equality_monitoring_save(*, user: User, answers: dict) -> EqualityMonitoring:
    """Keep a person's answers, with the moment they consented."""
    record, _ = EqualityMonitoring.objects.update_or_create(
        user=user, defaults={"answers": answers, "consented_at": timezone.now()}
    )
    return record


@transaction.atomic
def equality_monitoring_withdraw(*, user: User) -> None:
    EqualityMonitoring.objects.filter(user=user).delete()


@transaction.atomic
def erasure_request_create(*, user: User) -> ErasureRequest:
    """Ask the national office to erase one's data. A second request while one is pending
    returns the first."""
    User.objects.select_for_update().get(pk=user.pk)
    pending = ErasureRequest.objects.filter(user=user, status=Decision.PENDING).first()
    return pending or ErasureRequest.objects.create(user=user)


@transaction.atomic
def erasure_request_refuse(*, request: ErasureRequest, by: User, reason: str) -> None:
    request = ErasureRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != Decision.PENDING:
        raise ValidationError("This request has already been decided.")
    if not reason.strip():
        raise ValidationError("Give a reason for refusing.")
    request.decision_record(by=by, approve=False, reason=reason)
    request.save()


@transaction.atomic
def erasure_carry_out(*, request: ErasureRequest, by: User, reason: str = "") -> None:
    """Erase a person's personal data, all or nothing.

    The user and councillor rows stay, anonymised, so that counts per council, group and region
    still add up (the councillor keeps their council and, if serving, stays counted as serving)
    and other records (mailing statistics, decisions they made) keep pointing somewhere. The
    account can no longer log in and receives no mail. History rows are deleted, since they hold
    the personal data too; so are the person's rows in join requests and councillor imports.
    Other apps erase what they hold (mailing deliveries, say) on the `personal_data_erased`
    signal, in this transaction.
    """
    request = ErasureRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != Decision.PENDING or request.user_id is None:
        raise ValidationError("This request has already been decided.")
    user = User.objects.select_for_update().get(pk=request.user_id)
    emails = _emails_of(user)
    erased_email = f"erased-{user.pk}@invalid"

    EmailAddress.objects.filter(user=user).delete()
    Authenticator.objects.filter(user=user).delete()
    EqualityMonitoring.objects.filter(user=user).delete()
    user.email = erased_email
    user.full_name, user.preferred_name = ERASED_NAME, ""
    user.set_unusable_password()
    # An account that cannot log in cannot act for the national office or a region either.
    user.is_active = user.is_staff = user.is_superuser = False
    user.save()
    user.groups.clear()
    user.user_permissions.clear()
    StaffRole.objects.filter(user=user).delete()
    # Appointments still to begin end too, the day they would have begun.
    ended = RegionalRepresentative.objects.not_ended().filter(user=user)
    for appointment in ended:
        appointment.end_date = max(timezone.localdate(), appointment.start_date)
        appointment._change_reason = "Appointment ended: personal data erased"
        appointment.save(update_fields=["end_date"])
    group_offices_end(
        user_ids=[user.pk],
        on=timezone.localdate(),
        reason="Term ended: personal data erased",
        by=by,
    )

    councillor = Councillor.objects.filter(user=user).first()
    if councillor is not None:
        Position.objects.filter(councillor=councillor).delete()
        councillor.phone = councillor.bio = councillor.ward = ""
        councillor.first_elected = councillor.term_ends = None
        councillor.labour_coop = False
        councillor.wants_campaign_mailings = False
        councillor.wants_regional_news = False
        councillor.wants_training_events = False
        councillor.save()
        councillor.pending_changes.update(ward="", reason="")
        councillor.levy_waivers.update(circumstances="", reason="")
        # Requests still waiting are refused: nobody may approve a move or a waiver for an
        # erased member any more.
        refused = {"status": Decision.REFUSED, "decided_by": by, "decided_at": timezone.now()}
        for requests in (councillor.pending_changes, councillor.levy_waivers):
            requests.filter(status=Decision.PENDING).update(**refused, reason=ERASED_REASON)
        Position.history.filter(councillor_id=councillor.pk).delete()
        Councillor.history.filter(id=councillor.pk).delete()
        ProfileChange.history.filter(councillor_id=councillor.pk).delete()
        LevyWaiver.history.filter(councillor_id=councillor.pk).delete()
    User.history.filter(id=user.pk).delete()
    EmailAddress.history.filter(user_id=user.pk).delete()
    StaffRole.history.filter(user_id=user.pk).delete()
    _admin_log_erase(user=user, councillor=councillor)
    _sessions_erase(user_id=user.pk)
    _group_contact_addresses_erase(emails=emails, by=by)

    _join_requests_erase(emails=emails, erased_email=erased_email, by=by)
    _imports_erase(
        emails=emails, user_id=user.pk, councillor_id=councillor.pk if councillor else None
    )
    personal_data_erased.send(sender=User, user_id=user.pk, emails=sorted(emails))

    request.decision_record(by=by, approve=True, reason=reason)
    request.save()
    # One line stays in the person's history: that they were erased, by whom and when.
    user._change_reason = f"Erased by {by} on {timezone.localdate():%-d %B %Y}"
    user._history_user = by
    User.history.bulk_history_create([user], update=True)


def erasure_groups_sharing_address(*, user: User):
    """Council Labour groups whose contact address is one of the person's: erasing the person
    blanks it, so staff are shown them first (the group may need a new address)."""
    return _groups_with_contact_address(_emails_of(user)).select_related("council")


def _groups_with_contact_address(emails: set[str]):
    return CouncilGroup.objects.annotate(contact_lower=Lower("contact_email")).filter(
        contact_lower__in=emails
    )


def _group_contact_addresses_erase(*, emails: set[str], by: User) -> None:
    """Blank a group contact address that is the person's, recorded in the group's history, and
    take the address out of the group's earlier history records too."""
    for group in _groups_with_contact_address(emails).select_for_update(of=("self",)):
        group.contact_email = ""
        group._change_reason = "Contact address removed: personal data erased"
        group._history_user = by
        group.save(update_fields=["contact_email"])
    CouncilGroup.history.annotate(contact_lower=Lower("contact_email")).filter(
        contact_lower__in=emails
    ).update(contact_email="")


def _sessions_erase(*, user_id: int) -> None:
    """End every session of the person's, on any device. A session stores its user's id only
    inside its encoded data, so each is decoded; erasures are rare and sessions few enough."""
    theirs = [
        session.session_key
        for session in Session.objects.iterator(chunk_size=2000)
        if session.get_decoded().get(SESSION_KEY) == str(user_id)
    ]
    Session.objects.filter(session_key__in=theirs).delete()


def _emails_of(user: User) -> set[str]:
    """Every address a person has, lower-cased."""
    return {user.email.lower()} | {
        e.lower() for e in EmailAddress.objects.filter(user=user).values_list("email", flat=True)
    }


def _admin_log_erase(*, user: User, councillor: Councillor | None) -> None:
    """The admin site's log names the objects it changed: the person and their profile."""
    erased = [user] + ([councillor] if councillor else [])
    for obj in erased:
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk)
        ).update(object_repr=str(obj))


def _join_requests_erase(*, emails: set[str], erased_email: str, by: User) -> None:
    """Anonymise the person's join requests (also recorded for councillors added by hand or by
    import); one still waiting is refused, since it can no longer become an account."""
    requests = JoinRequest.objects.annotate(email_lower=Lower("email")).filter(
        email_lower__in=emails
    )
    for join_request in requests.select_for_update(of=("self",)).filter(status=Decision.PENDING):
        join_request.decision_record(by=by, approve=False, reason=ERASED_REASON)
        join_request.save(update_fields=["status", "decided_by", "decided_at", "reason"])
    # A refusal's reason is free text that may name the person; approvals' reasons are the
    # portal's own ("Added by a representative.").
    requests.filter(status=Decision.REFUSED).update(reason=ERASED_REASON)
    requests.update(full_name=ERASED_NAME, email=erased_email, ward="")


def _imports_mentioning(*, emails: set[str], user_id: int, councillor_id: int | None):
    """Councillor imports whose file or report may name the person (a cheap first pass: the
    rows themselves are checked with `_is_their_import_row`)."""
    mentions = Q(report_text__regex=f'"user_id": {user_id}[,}}]')
    if councillor_id is not None:
        mentions |= Q(report_text__regex=f'"councillor_id": {councillor_id}[,}}]')
    for email in emails:
        mentions |= Q(content__icontains=email) | Q(report_text__icontains=email)
    return CouncillorImport.objects.annotate(report_text=Cast("report", TextField())).filter(
        mentions
    )


def _is_their_import_row(
    row: dict, *, emails: set[str], user_id: int, councillor_id: int | None
) -> bool:
    return (
        str(row.get("email", "")).strip().lower() in emails
        or row.get("user_id") == user_id
        or (councillor_id is not None and row.get("councillor_id") == councillor_id)
    )


def _imports_erase(*, emails: set[str], user_id: int, councillor_id: int | None) -> None:
    """Take the person out of councillor imports: their rows in the stored reports are
    redacted, and their rows in the stored files removed (a finished import keeps no file)."""
    whose = {"emails": emails, "user_id": user_id, "councillor_id": councillor_id}
    found = _imports_mentioning(**whose).select_for_update(of=("self",))
    finished = (CouncillorImport.Status.DONE, CouncillorImport.Status.FAILED)
    for councillor_import in found:
        report = councillor_import.report or {}
        for row in report.get("rows", []):
            if _is_their_import_row(row, **whose):
                row.update(full_name=ERASED_NAME, email="", phone="", ward="", changes={})
        councillor_import.report = report
        if councillor_import.status in finished:
            councillor_import.content = ""
        else:
            councillor_import.content = _csv_without_rows_for(councillor_import.content, emails)
        councillor_import.save(update_fields=["report", "content"])


def _csv_without_rows_for(text: str, emails: set[str]) -> str:
    """The CSV text without the rows whose email column is one of these addresses."""
    try:
        reader = csv.reader(io.StringIO(text, newline=""), strict=True)
        rows = list(reader)
    except csv.Error:
        return ""  # unreadable now, so nothing could be imported from it anyway
    if not rows:
        return text
    columns = [name.strip().lower().replace(" ", "_") for name in rows[0]]
    if "email" not in columns:
        return ""
    at = columns.index("email")
    kept = [rows[0]] + [
        row
        for row in rows[1:]
        if not (at < len(row) and row[at].strip().lstrip("'").lower() in emails)
    ]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(kept)
    return out.getvalue()


def _plain(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _record(obj, fields: list[str]) -> dict:
    return {field: _plain(getattr(obj, field)) for field in fields}


def personal_data_collect(*, user: User) -> dict:
    """Everything the portal holds about a person, as plain values (never the password).

    Other apps add what they hold (mailing deliveries, suppressions) through the
    `personal_data_requested` signal."""
    emails = _emails_of(user)
    data = {
        "user": _record(
            user,
            [
                "id",
                "email",
                "full_name",
                "preferred_name",
                "is_active",
                "date_joined",
                "last_login",
            ],
        ),  # fmt: skip
        "email_addresses": [
            _record(a, ["email", "verified", "primary"])
            for a in EmailAddress.objects.filter(user=user).order_by("email")
        ],
        "councillor": None,
        "positions": [],
        "profile_changes": [],
        "levy_waivers": [],
        "profile_history": [],
        "position_history": [],
        "profile_change_history": [],
        "levy_waiver_history": [],
        "import_rows": [],
        # Which kinds of second factor they use and when, never the secrets or codes.
        "two_factor_authenticators": [
            {"type": a.get_type_display(), **_record(a, ["created_at", "last_used_at"])}
            for a in Authenticator.objects.filter(user=user).order_by("created_at", "pk")
        ],
        "equality_monitoring": None,
        "erasure_requests": [
            _record(r, ["requested_at", "status", "decided_at", "reason"])
            for r in ErasureRequest.objects.filter(user=user)
        ],
        "join_requests": [
            {
                "council": j.council.name,
                **_record(
                    j,
                    [
                        "full_name",
                        "email",
                        "ward",
                        "status",
                        "requested_at",
                        "decided_at",
                        "reason",
                        "invited_at",
                    ],
                ),
            }
            for j in JoinRequest.objects.annotate(email_lower=Lower("email"))
            .filter(email_lower__in=emails)
            .select_related("council")
            .order_by("requested_at", "pk")
        ],  # fmt: skip
        "group_offices": [
            {
                "group": o.group.name,
                "council": o.group.council.name,
                "role": o.get_role_display(),
                **_record(o, ["start_date", "end_date"]),
            }
            for o in GroupOfficer.objects.filter(user=user)
            .select_related("group__council")
            .order_by("start_date", "pk")
        ],  # fmt: skip
        "representative_appointments": [
            {"region": r.region.name, **_record(r, ["start_date", "end_date"])}
            for r in RegionalRepresentative.objects.filter(user=user)
            .select_related("region")
            .order_by("start_date", "pk")
        ],
        "staff_roles": [
            _record(r, ["job_title", "since"]) for r in StaffRole.objects.filter(user=user)
        ],
    }
    councillor = Councillor.objects.filter(user=user).select_related("council").first()
    if councillor is not None:
        data["councillor"] = {
            "council": councillor.council.name,
            "ward": councillor.ward,
            **_record(councillor, COUNCILLOR_FIELDS + ["left_on"]),
        }
        data["positions"] = [
            _record(p, ["title", "start_date", "end_date"]) for p in councillor.positions.all()
        ]
        data["profile_changes"] = [
            {"council": c.council.name, **_record(c, ["ward", "status", "requested_at",
                                                      "decided_at", "reason"])}
            for c in councillor.pending_changes.select_related("council")
        ]  # fmt: skip
        data["levy_waivers"] = [
            _record(w, ["year", "circumstances", "declaration", "status", "applied_at",
                        "decided_at", "reason"])
            for w in councillor.levy_waivers.all()
        ]  # fmt: skip
        data["profile_history"] = [
            {
                "changed_at": _plain(h.history_date),
                "change": h.get_history_type_display(),
                "reason": h.history_change_reason or "",
                "ward": h.ward,
                "phone": h.phone,
                "bio": h.bio,
                "labour_coop": h.labour_coop,
            }
            for h in councillor.history.order_by("history_date")
        ]
        data["position_history"] = [
            {
                **_history_fields(h),
                **_record(h, ["title", "start_date", "end_date"]),
            }
            for h in Position.history.filter(councillor_id=councillor.pk).order_by("history_date")
        ]
        data["profile_change_history"] = [
            {
                **_history_fields(h),
                "council": h.council.name,
                **_record(h, ["ward", "status", "requested_at", "decided_at", "reason"]),
            }
            for h in ProfileChange.history.filter(councillor_id=councillor.pk)
            .select_related("council")
            .order_by("history_date")
        ]  # fmt: skip
        data["levy_waiver_history"] = [
            {
                **_history_fields(h),
                **_record(h, ["year", "circumstances", "status", "decided_at", "reason"]),
            }
            for h in LevyWaiver.history.filter(councillor_id=councillor.pk).order_by("history_date")
        ]
    data["import_rows"] = _import_rows_of(
        emails=emails, user_id=user.pk, councillor_id=councillor.pk if councillor else None
    )
    data["profile_history"] += [
        {
            "changed_at": _plain(h.history_date),
            "change": h.get_history_type_display(),
            "reason": h.history_change_reason or "",
            "email": h.email,
            "full_name": h.full_name,
            "preferred_name": h.preferred_name,
        }
        for h in user.history.order_by("history_date")
    ]
    equality = EqualityMonitoring.objects.filter(user=user).first()
    if equality is not None:
        data["equality_monitoring"] = {
            "consented_at": _plain(equality.consented_at),
            "answers": equality.answers,
        }
    for _receiver, sections in personal_data_requested.send(
        sender=User, user_id=user.pk, emails=sorted(emails)
    ):
        data.update(sections or {})
    return data


def _history_fields(record) -> dict:
    return {
        "changed_at": _plain(record.history_date),
        "change": record.get_history_type_display(),
        "change_reason": record.history_change_reason or "",
    }


IMPORT_ROW_FIELDS = ["line", "full_name", "email", "council", "ward", "phone", "action"]


def _import_rows_of(*, emails: set[str], user_id: int, councillor_id: int | None) -> list[dict]:
    """The person's own rows in the reports of councillor imports, never anyone else's."""
    whose = {"emails": emails, "user_id": user_id, "councillor_id": councillor_id}
    rows = []
    imports = _imports_mentioning(**whose).select_related("region").order_by("uploaded_at", "pk")
    for councillor_import in imports:
        for row in (councillor_import.report or {}).get("rows", []):
            if _is_their_import_row(row, **whose):
                rows.append(
                    {
                        "file": councillor_import.filename,
                        "region": councillor_import.region.name,
                        "uploaded_at": _plain(councillor_import.uploaded_at),
                        "import_status": councillor_import.get_status_display(),
                        **{field: row.get(field) for field in IMPORT_ROW_FIELDS},
                        "changes": row.get("changes") or {},
                        "errors": row.get("errors") or [],
                    }
                )
    return rows


def personal_data_json(*, user: User) -> str:
    return _as_json(personal_data_collect(user=user))


def personal_data_csv(*, user: User) -> str:
    """The same data as one CSV table: section, record number, field, value."""
    return _as_csv(personal_data_collect(user=user))


def personal_data_download(*, user: User, as_csv: bool) -> str:
    """A person's own data, as a file for them to take away (CSV or JSON), noted in the export
    log like every other download of personal data."""
    from members.services.exports import export_record

    data = personal_data_collect(user=user)
    rows = sum(len(_records(content)) for content in data.values())
    kind = ExportLogEntry.Kind.OWN_DATA_CSV if as_csv else ExportLogEntry.Kind.OWN_DATA_JSON
    export_record(by=user, kind=kind, subject=f"Their own data (account {user.pk})", rows=rows)
    return _as_csv(data) if as_csv else _as_json(data)


def _as_json(data: dict) -> str:
    return json.dumps(data, cls=DjangoJSONEncoder, indent=2)


def _records(content) -> list:
    return content if isinstance(content, list) else [content] if content else []


def _as_csv(data: dict) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", "record", "field", "value"])
    for section, content in data.items():
        for number, record in enumerate(_records(content), start=1):
            for field, value in _flat(record):
                writer.writerow([section, number, field, _csv_safe(value)])
    return out.getvalue()


def _flat(record: dict, prefix: str = ""):
    """(field, value) pairs of a record, nested values named like `answers.age_band`."""
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from _flat(value, f"{name}.")
        elif isinstance(value, list):
            yield from _flat(dict(enumerate(value)), f"{name}.")
        else:
            yield name, value


def _csv_safe(value) -> str:
    """Text as a spreadsheet will show it, never as a formula it would run."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
