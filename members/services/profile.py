"""Writes for a councillor's own profile and their requests: council and ward changes, levy
waivers, equality monitoring, and the export and erasure of their personal data."""

import csv
import io
import json
from datetime import date, datetime

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from members.models import (
    Councillor,
    Decision,
    EqualityMonitoring,
    ErasureRequest,
    LevyWaiver,
    Position,
    ProfileChange,
    User,
)
from members.signals import personal_data_erased

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


@transaction.atomic
def profile_update(
    *, councillor: Councillor, changes: dict, positions: list[dict]
) -> ProfileChange | None:
    """Apply a councillor's own edit. Everything applies at once except a change of council or
    ward, which waits for the representative of the new council's region: it becomes the one
    pending change (replacing any earlier one). Returns the pending change, if there is one."""
    councillor = Councillor.objects.select_for_update().select_related("user").get(pk=councillor.pk)
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
    council, ward = changes["council"], changes["ward"]
    if council.pk == councillor.council_id and ward == councillor.ward:
        # Back to what they have: nothing left to approve.
        if pending:
            pending.delete()
        return None
    if pending is None:
        pending = ProfileChange(councillor=councillor)
    pending.council, pending.ward, pending.requested_at = council, ward, timezone.now()
    pending._change_reason = "Requested by the councillor"
    pending.save()
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
    """Approve (apply the new council and ward) or refuse (keep the old ones) a pending change."""
    change = ProfileChange.objects.select_for_update().get(pk=change.pk)
    if change.status != Decision.PENDING:
        raise ValidationError("This change has already been decided.")
    change.decision_record(by=by, approve=approve, reason=reason)
    change._change_reason = f"{change.get_status_display()} by {by}"
    change.save()
    if approve:
        councillor = Councillor.objects.select_for_update().get(pk=change.councillor_id)
        councillor.council_id, councillor.ward = change.council_id, change.ward
        councillor._change_reason = f"Council and ward change approved by {by}"
        councillor.save(update_fields=["council", "ward"])
    return change


@transaction.atomic
def levy_waiver_apply(*, councillor: Councillor, year: int, circumstances: str) -> LevyWaiver:
    """Apply for a levy waiver for a year. One live (pending or approved) application a year."""
    Councillor.objects.select_for_update().get(pk=councillor.pk)
    live = councillor.levy_waivers.filter(year=year).exclude(status=Decision.REFUSED)
    if live.exists():
        raise ValidationError(
            f"You already have a levy waiver application for {year}. "
            "You can apply again only if that one is refused."
        )
    return LevyWaiver.objects.create(
        councillor=councillor, year=year, circumstances=circumstances, declaration=True
    )


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

    The user and councillor rows stay, anonymised, so that counts per council still add up and
    other records (mailing statistics, decisions they made) keep pointing somewhere. Their
    history rows are deleted, since they hold the personal data too. Other apps erase what they
    hold (mailing deliveries, say) on the `personal_data_erased` signal, in this transaction.
    """
    request = ErasureRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != Decision.PENDING or request.user_id is None:
        raise ValidationError("This request has already been decided.")
    user = User.objects.select_for_update().get(pk=request.user_id)
    emails = {user.email.lower()} | {
        e.lower() for e in EmailAddress.objects.filter(user=user).values_list("email", flat=True)
    }

    EmailAddress.objects.filter(user=user).delete()
    Authenticator.objects.filter(user=user).delete()
    EqualityMonitoring.objects.filter(user=user).delete()
    user.email = f"erased-{user.pk}@invalid"
    user.full_name, user.preferred_name = ERASED_NAME, ""
    user.set_unusable_password()
    user.is_active = False
    user.save()

    councillor = Councillor.objects.filter(user=user).first()
    if councillor is not None:
        Position.objects.filter(councillor=councillor).delete()
        councillor.phone = councillor.bio = councillor.ward = ""
        councillor.left_on = councillor.left_on or timezone.localdate()
        councillor.save()
        councillor.pending_changes.update(ward="", reason="")
        councillor.levy_waivers.update(circumstances="", reason="")
        Position.history.filter(councillor_id=councillor.pk).delete()
        Councillor.history.filter(id=councillor.pk).delete()
        ProfileChange.history.filter(councillor_id=councillor.pk).delete()
        LevyWaiver.history.filter(councillor_id=councillor.pk).delete()
    User.history.filter(id=user.pk).delete()
    personal_data_erased.send(sender=User, user_id=user.pk, emails=sorted(emails))

    request.decision_record(by=by, approve=True, reason=reason)
    request.save()


def _plain(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _record(obj, fields: list[str]) -> dict:
    return {field: _plain(getattr(obj, field)) for field in fields}


def personal_data_collect(*, user: User) -> dict:
    """Everything the portal holds about a person, as plain values (never the password)."""
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
        "equality_monitoring": None,
        "erasure_requests": [
            _record(r, ["requested_at", "status", "decided_at", "reason"])
            for r in ErasureRequest.objects.filter(user=user)
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
    return data


def personal_data_json(*, user: User) -> str:
    return json.dumps(personal_data_collect(user=user), cls=DjangoJSONEncoder, indent=2)


def personal_data_csv(*, user: User) -> str:
    """The same data as one CSV table: section, record number, field, value."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", "record", "field", "value"])
    for section, content in personal_data_collect(user=user).items():
        records = content if isinstance(content, list) else [content] if content else []
        for number, record in enumerate(records, start=1):
            for field, value in record.items():
                if isinstance(value, dict):
                    for key, inner in value.items():
                        writer.writerow([section, number, f"{field}.{key}", _csv_safe(inner)])
                else:
                    writer.writerow([section, number, field, _csv_safe(value)])
    return out.getvalue()


def _csv_safe(value) -> str:
    """Text as a spreadsheet will show it, never as a formula it would run."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
