"""Reading the change history that django-simple-history keeps for groups, officers and
representative appointments, as lines a person can follow: who, when, what, old and new.

The historical records are read in one query per model (related objects joined in), and each
record is compared with the one before it in Python, so a page's query count does not grow
with its history.

People are named by their full name. Their email address stands in for a blank name only where
the reader may see contact details (`reveal_emails`); everyone else reads a neutral label.
"""

from __future__ import annotations

import dataclasses
import datetime
import itertools
from collections.abc import Callable, Iterable

from django.contrib.auth import get_user_model
from django.core.exceptions import ObjectDoesNotExist

from .models import Council, CouncilGroup, Election, GroupOfficer, RegionalRepresentative

# How far back a page reads; older changes stay in the database and the admin site.
RECORD_LIMIT = 500
KINDS = {"+": "Created", "~": "Changed", "-": "Deleted"}
NO_NAME = "(no name)"


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


def person_name(user, *, reveal_emails: bool) -> str:
    if user.full_name:
        return user.full_name
    return user.email if reveal_emails else NO_NAME


def _display(record, field, *, reveal_emails: bool = True) -> str:
    if field.is_relation:
        try:
            related = getattr(record, field.name)
        except ObjectDoesNotExist:
            return "(removed)"
        if related is None:
            return "–"
        if isinstance(related, get_user_model()):
            return person_name(related, reveal_emails=reveal_emails)
        return str(related)
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


def _field_changes(record, old, *, reveal_emails: bool) -> list[FieldChange]:
    if record.history_type == "-":
        return []
    # Only the fields the history tracks: a model may leave some out (a password, say).
    tracked = {f.name for f in record._meta.fields}
    # Not the primary key: a database id means nothing to the reader.
    fields = {
        f.name: f
        for f in record.instance_type._meta.fields
        if f.editable and not f.primary_key and f.name in tracked
    }
    if old is None:
        return [
            FieldChange(_label(field), "–", value)
            for field in fields.values()
            if (value := _display(record, field, reveal_emails=reveal_emails)) != "–"
        ]
    changed = {
        change.field for change in record.diff_against(old, included_fields=list(fields)).changes
    }
    # In the model's field order, so a page reads the same way every time.
    return [
        FieldChange(
            _label(field),
            _display(old, field, reveal_emails=reveal_emails),
            _display(record, field, reveal_emails=reveal_emails),
        )
        for name, field in fields.items()
        if name in changed
    ]


def _who(record, *, reveal_emails: bool) -> str:
    user = record.history_user
    return person_name(user, reveal_emails=reveal_emails) if user is not None else "The system"


def describe(
    records: Iterable, subject: Callable[[object], str], *, reveal_emails: bool = True
) -> list[Change]:
    """Changes from historical records of one model (of any number of objects), newest first."""
    previous: dict[int, object] = {}
    changes = []
    for record in sorted(records, key=lambda r: (r.history_date, r.history_id)):
        old = previous.get(record.id)
        changes.append(
            Change(
                when=record.history_date,
                who=_who(record, reveal_emails=reveal_emails),
                subject=subject(record),
                kind=KINDS.get(record.history_type, record.history_type),
                reason=record.history_change_reason or "",
                fields=_field_changes(record, old, reveal_emails=reveal_emails),
            )
        )
        previous[record.id] = record
    changes.reverse()
    return changes


def newest_first(*change_lists: list[Change]) -> list[Change]:
    """The changes of several models read with describe(), merged into one list, newest first."""
    return sorted(itertools.chain(*change_lists), key=lambda c: c.when, reverse=True)


def latest_records(history_qs):
    """The RECORD_LIMIT most recent records, oldest first."""
    return list(reversed(history_qs.order_by("-history_date", "-history_id")[:RECORD_LIMIT]))


def _officer_subject(*, reveal_emails: bool = True) -> Callable[[object], str]:
    holder = GroupOfficer._meta.get_field("user")
    return lambda record: (
        f"{record.get_role_display()}: {_display(record, holder, reveal_emails=reveal_emails)}"
    )


def group_changes(
    group: CouncilGroup, *, limit: int | None = None, reveal_emails: bool = True
) -> list[Change]:
    """The group's own changes and those of its officers, newest first."""
    group_records = latest_records(
        CouncilGroup.history.filter(id=group.pk).select_related("history_user", "council")
    )
    officer_records = latest_records(
        GroupOfficer.history.filter(group_id=group.pk).select_related(
            "history_user", "user", "group"
        )
    )
    officer_subject = _officer_subject(reveal_emails=reveal_emails)
    changes = newest_first(
        describe(group_records, lambda r: "Group details", reveal_emails=reveal_emails),
        describe(officer_records, officer_subject, reveal_emails=reveal_emails),
    )
    return changes[:limit] if limit else changes


def officer_changes(officer: GroupOfficer) -> list[Change]:
    records = latest_records(
        GroupOfficer.history.filter(id=officer.pk).select_related("history_user", "user", "group")
    )
    return describe(records, _officer_subject())


def representative_changes(appointment: RegionalRepresentative) -> list[Change]:
    records = latest_records(
        RegionalRepresentative.history.filter(id=appointment.pk).select_related(
            "history_user", "user", "region"
        )
    )
    return describe(records, lambda r: f"Representative for {r.region}")


def council_changes(council: Council) -> list[Change]:
    """The council's figures and its elections, as loaded from the data and corrected."""
    council_records = latest_records(
        Council.history.filter(id=council.pk).select_related("history_user", "region")
    )
    election_records = latest_records(
        Election.history.filter(council_id=council.pk).select_related("history_user")
    )
    return newest_first(
        describe(council_records, lambda r: "Council"),
        describe(election_records, lambda r: f"Election on {r.date:%-d %B %Y}"),
    )
