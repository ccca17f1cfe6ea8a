"""A person's own data: their equality-monitoring answers, and the copy of everything the
portal holds about them that they may download (members.services.erasure erases it)."""

import csv
import io
import json
from datetime import date, datetime

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q, TextField
from django.db.models.functions import Cast, Lower
from django.utils import timezone

from members.imports import spreadsheet_cell
from members.models import (
    Councillor,
    CouncillorImport,
    EqualityMonitoring,
    ErasureRequest,
    ExportLogEntry,
    JoinRequest,
    LevyWaiver,
    Notice,
    Position,
    ProfileChange,
    StaffRole,
    User,
)
from members.services.exports import export_record
from members.services.profiles import COUNCILLOR_FIELDS
from members.signals import personal_data_requested
from regions.models import GroupOfficer, RegionalRepresentative


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


def emails_of(user: User) -> set[str]:
    """Every address a person has, lower-cased."""
    return {user.email.lower()} | {
        e.lower() for e in EmailAddress.objects.filter(user=user).values_list("email", flat=True)
    }


def imports_mentioning(*, emails: set[str], user_id: int, councillor_id: int | None):
    """Councillor imports whose file or report may name the person (a cheap first pass: the
    rows themselves are checked with `is_their_import_row`)."""
    mentions = Q(report_text__regex=f'"user_id": {user_id}[,}}]')
    if councillor_id is not None:
        mentions |= Q(report_text__regex=f'"councillor_id": {councillor_id}[,}}]')
    for email in emails:
        mentions |= Q(content__icontains=email) | Q(report_text__icontains=email)
    return CouncillorImport.objects.annotate(report_text=Cast("report", TextField())).filter(
        mentions
    )


def is_their_import_row(
    row: dict, *, emails: set[str], user_id: int, councillor_id: int | None
) -> bool:
    return (
        str(row.get("email", "")).strip().lower() in emails
        or row.get("user_id") == user_id
        or (councillor_id is not None and row.get("councillor_id") == councillor_id)
    )


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
    emails = emails_of(user)
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
        # The portal's own emails to them (invitations, decisions...): what and when.
        "notices": [
            {
                "kind": n.kind,
                **_record(n, ["to_email", "subject", "status", "created_at", "sent_at"]),
            }
            for n in Notice.objects.annotate(email_lower=Lower("to_email"))
            .filter(Q(to_user=user) | Q(email_lower__in=emails))
            .order_by("created_at", "pk")
        ],  # fmt: skip
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
    imports = imports_mentioning(**whose).select_related("region").order_by("uploaded_at", "pk")
    for councillor_import in imports:
        for row in (councillor_import.report or {}).get("rows", []):
            if is_their_import_row(row, **whose):
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
                writer.writerow([section, number, field, spreadsheet_cell(value)])
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
