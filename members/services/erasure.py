"""Erasing a person's personal data, when they ask and the national office agrees: all or
nothing, in one transaction, with the request kept as the record that it was done."""

import csv
import io

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib.admin.models import LogEntry
from django.contrib.auth import SESSION_KEY
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import CharField, Q, Value
from django.db.models.functions import Cast, Concat, Lower
from django.utils import timezone

from members.models import (
    Councillor,
    CouncillorImport,
    Decision,
    EqualityMonitoring,
    ErasureRequest,
    JoinRequest,
    LevyWaiver,
    Notice,
    Position,
    ProfileChange,
    StaffRole,
    User,
)
from members.services.councillors import group_offices_end
from members.services.personal_data import emails_of, imports_mentioning, is_their_import_row
from members.signals import personal_data_erased
from regions.models import CouncilGroup, RegionalRepresentative

ERASED_NAME = "Erased member"


ERASED_REASON = "Personal data erased."


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
    emails = emails_of(user)
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
    _notices_erase(emails=emails, user_id=user.pk)
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
    return _groups_with_contact_address(emails_of(user)).select_related("council")


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


def _imports_erase(*, emails: set[str], user_id: int, councillor_id: int | None) -> None:
    """Take the person out of councillor imports: their rows in the stored reports are
    redacted, and their rows in the stored files removed (a finished import keeps no file)."""
    whose = {"emails": emails, "user_id": user_id, "councillor_id": councillor_id}
    found = imports_mentioning(**whose).select_for_update(of=("self",))
    finished = (CouncillorImport.Status.DONE, CouncillorImport.Status.FAILED)
    for councillor_import in found:
        report = councillor_import.report or {}
        for row in report.get("rows", []):
            if is_their_import_row(row, **whose):
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


def _notices_erase(*, emails: set[str], user_id: int) -> None:
    """The portal's emails to the person stay counted (what was sent, when), without the
    address or what they said. Any not yet sent are not sent."""
    theirs = Notice.objects.annotate(email_lower=Lower("to_email")).filter(
        Q(to_user_id=user_id) | Q(email_lower__in=emails)
    )
    theirs.exclude(status=Notice.Status.SENT).update(status=Notice.Status.CANCELLED)
    theirs.update(
        to_email=Concat(Value("erased-"), Cast("pk", CharField()), Value("@invalid")),
        subject="",
        body_text="",
        body_html="",
        last_error="",
    )
