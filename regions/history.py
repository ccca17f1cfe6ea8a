"""Reading the change history that django-simple-history keeps for groups, officers and
representative appointments, as lines a person can follow: who, when, what, old and new.

The historical records are read in one query per model (related objects joined in), and each
record is compared with the one before it in Python, so a page's query count does not grow
with its history.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable, Iterable

from django.core.exceptions import ObjectDoesNotExist

from .models import CouncilGroup, GroupOfficer, RegionalRepresentative

# How far back a page reads; older changes stay in the database and the admin site.
RECORD_LIMIT = 500
KINDS = {"+": "Created", "~": "Changed", "-": "Deleted"}


@dataclasses.dataclass
class FieldChange:
    label: str
    old: str
    new: str


@dataclasses.dataclass
class Change:
    when: datetime.datetime
    who: str
    subject: str
    kind: str
    reason: str
    fields: list[FieldChange]


def _display(record, field) -> str:
    if field.is_relation:
        try:
            related = getattr(record, field.name)
        except ObjectDoesNotExist:
            return f"(removed, id {getattr(record, field.attname)})"
        return str(related) if related is not None else "–"
    value = getattr(record, field.attname)
    if value in (None, ""):
        return "–"
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, datetime.date):
        return f"{value:%-d %B %Y}"
    return str(value)


def _label(field) -> str:
    return str(field.verbose_name).capitalize()


def _field_changes(record, old) -> list[FieldChange]:
    fields = {f.name: f for f in record.instance_type._meta.fields if f.editable}
    if record.history_type == "-":
        return []
    if old is None:
        return [
            FieldChange(_label(field), "–", value)
            for field in fields.values()
            if (value := _display(record, field)) != "–"
        ]
    delta = record.diff_against(old, included_fields=list(fields))
    return [
        FieldChange(
            _label(fields[change.field]),
            _display(old, fields[change.field]),
            _display(record, fields[change.field]),
        )
        for change in delta.changes
    ]


def _who(record) -> str:
    user = record.history_user
    return str(user) if user is not None else "The system"


def describe(records: Iterable, subject: Callable[[object], str]) -> list[Change]:
    """Changes from historical records of one model (of any number of objects), newest first."""
    previous: dict[int, object] = {}
    changes = []
    for record in sorted(records, key=lambda r: (r.history_date, r.history_id)):
        old = previous.get(record.id)
        changes.append(
            Change(
                when=record.history_date,
                who=_who(record),
                subject=subject(record),
                kind=KINDS.get(record.history_type, record.history_type),
                reason=record.history_change_reason or "",
                fields=_field_changes(record, old),
            )
        )
        previous[record.id] = record
    changes.reverse()
    return changes


def _latest(history_qs):
    return list(reversed(history_qs.order_by("-history_date", "-history_id")[:RECORD_LIMIT]))


def _officer_subject(record) -> str:
    return f"{record.get_role_display()}: {_display(record, GroupOfficer._meta.get_field('user'))}"


def group_changes(group: CouncilGroup, *, limit: int | None = None) -> list[Change]:
    """The group's own changes and those of its officers, newest first."""
    group_records = _latest(
        CouncilGroup.history.filter(id=group.pk).select_related("history_user", "council")
    )
    officer_records = _latest(
        GroupOfficer.history.filter(group_id=group.pk).select_related(
            "history_user", "user", "group"
        )
    )
    changes = describe(group_records, lambda r: "Group details") + describe(
        officer_records, _officer_subject
    )
    changes.sort(key=lambda c: c.when, reverse=True)
    return changes[:limit] if limit else changes


def officer_changes(officer: GroupOfficer) -> list[Change]:
    records = _latest(
        GroupOfficer.history.filter(id=officer.pk).select_related("history_user", "user", "group")
    )
    return describe(records, _officer_subject)


def representative_changes(appointment: RegionalRepresentative) -> list[Change]:
    records = _latest(
        RegionalRepresentative.history.filter(id=appointment.pk).select_related(
            "history_user", "user", "region"
        )
    )
    return describe(records, lambda r: f"Representative for {r.region}")
