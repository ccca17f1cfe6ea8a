"""Loading the council data file into the database.

``councils_load`` runs at every start-up, so it must be idempotent and quick: it reads
``regions/data/councils.csv`` once, compares it with what is stored and writes only the
differences, in bulk and in one transaction.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify
from simple_history.utils import bulk_create_with_history

from regions import councildata
from regions.access import officer_candidates
from regions.models import Council, CouncilGroup, Election, GroupOfficer, Region

# Council model fields set from the data file (besides gss_code, the key).
COUNCIL_FIELDS = (
    "name",
    "short_name",
    "slug",
    "kind",
    "region_id",
    "total_seats",
    "labour_seats",
    "control",
    "election_pattern",
    "start_date",
    "end_date",
    "notes",
)


@dataclasses.dataclass
class LoadCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0

    def __str__(self):
        text = f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"
        return f"{text}, {self.deleted} deleted" if self.deleted else text


@dataclasses.dataclass
class LoadResult:
    regions: LoadCounts = dataclasses.field(default_factory=LoadCounts)
    councils: LoadCounts = dataclasses.field(default_factory=LoadCounts)
    elections: LoadCounts = dataclasses.field(default_factory=LoadCounts)
    groups: LoadCounts = dataclasses.field(default_factory=LoadCounts)

    @property
    def changed(self) -> bool:
        return any(
            c.created or c.updated or c.deleted
            for c in (self.regions, self.councils, self.elections, self.groups)
        )

    def __str__(self):
        return (
            f"Regions: {self.regions}; councils: {self.councils}; "
            f"elections: {self.elections}; Labour groups: {self.groups}."
        )


def councils_load(*, path: Path | None = None) -> LoadResult:
    """Load the council data file (the bundled one by default) into the database.

    Creates or updates the 11 regions, every council in the file, their scheduled elections
    (removing elections no longer listed for those councils) and a Labour group for each council
    with Labour seats. Councils missing from the file are left alone, and so are existing groups
    (their names may have been edited), including those whose council has lost its Labour seats.
    """
    records = councildata.read_councils_csv(path)
    result = LoadResult()
    with transaction.atomic():
        regions = _load_regions(records, result.regions)
        councils = _load_councils(records, regions, result.councils)
        _load_elections(records, councils, result.elections)
        _load_groups(records, councils, result.groups)
    return result


def _load_regions(records, counts: LoadCounts) -> dict[str, Region]:
    unknown = {r.region for r in records} - set(councildata.REGION_NAMES)
    if unknown:
        raise councildata.CouncilDataError(f"unknown regions in the data file: {sorted(unknown)}")
    existing = {region.name: region for region in Region.objects.all()}
    to_create, to_update = [], []
    for name in councildata.REGION_NAMES:
        slug = slugify(name)
        region = existing.get(name)
        if region is None:
            to_create.append(Region(name=name, slug=slug))
        elif region.slug != slug:
            region.slug = slug
            to_update.append(region)
        else:
            counts.unchanged += 1
    if to_update:
        Region.objects.bulk_update(to_update, ["slug"])
    if to_create:
        Region.objects.bulk_create(to_create)
    counts.created, counts.updated = len(to_create), len(to_update)
    return {region.name: region for region in [*existing.values(), *to_create]}


def _load_councils(records, regions: dict[str, Region], counts: LoadCounts) -> dict[str, Council]:
    existing = Council.objects.in_bulk([r.gss_code for r in records], field_name="gss_code")
    to_create, to_update, changed_fields = [], [], set()
    for record in records:
        values = {field: getattr(record, field) for field in COUNCIL_FIELDS if field != "region_id"}
        values["region_id"] = regions[record.region].pk
        council = existing.get(record.gss_code)
        if council is None:
            to_create.append(Council(gss_code=record.gss_code, **values))
            continue
        changed = [field for field, value in values.items() if getattr(council, field) != value]
        if changed:
            for field in changed:
                setattr(council, field, values[field])
            changed_fields.update(changed)
            to_update.append(council)
        else:
            counts.unchanged += 1
    if to_update:
        Council.objects.bulk_update(to_update, sorted(changed_fields))
    if to_create:
        Council.objects.bulk_create(to_create)
    counts.created, counts.updated = len(to_create), len(to_update)
    return {council.gss_code: council for council in [*existing.values(), *to_create]}


def _load_elections(records, councils: dict[str, Council], counts: LoadCounts) -> None:
    wanted = {
        (councils[record.gss_code].pk, election.date): election
        for record in records
        for election in record.elections
    }
    existing = {
        (election.council_id, election.date): election
        for election in Election.objects.filter(council__in=list(councils.values()))
    }
    to_create, to_update = [], []
    for key, data in wanted.items():
        election = existing.get(key)
        if election is None:
            to_create.append(
                Election(
                    council_id=key[0],
                    date=data.date,
                    seats_up=data.seats_up,
                    labour_seats_up=data.labour_seats_up,
                )
            )
        elif (election.seats_up, election.labour_seats_up) != (
            data.seats_up,
            data.labour_seats_up,
        ):
            election.seats_up, election.labour_seats_up = data.seats_up, data.labour_seats_up
            to_update.append(election)
        else:
            counts.unchanged += 1
    stale = [election.pk for key, election in existing.items() if key not in wanted]
    if stale:
        Election.objects.filter(pk__in=stale).delete()
    if to_update:
        Election.objects.bulk_update(to_update, ["seats_up", "labour_seats_up"])
    if to_create:
        Election.objects.bulk_create(to_create)
    counts.created, counts.updated, counts.deleted = len(to_create), len(to_update), len(stale)


def _load_groups(records, councils: dict[str, Council], counts: LoadCounts) -> None:
    with_groups = set(
        CouncilGroup.objects.filter(council__in=list(councils.values())).values_list(
            "council_id", flat=True
        )
    )
    to_create = []
    for record in records:
        council = councils[record.gss_code]
        if council.pk in with_groups:
            counts.unchanged += 1
        elif record.labour_seats > 0:
            to_create.append(CouncilGroup(council=council, name=record.group_name))
    if to_create:
        # Groups keep history: their first row says where they came from.
        bulk_create_with_history(
            to_create, CouncilGroup, default_change_reason="Created from the council data"
        )
    counts.created = len(to_create)


# Council Labour groups and their officers. Each write records who made it in the history.


def group_contact_update(
    *,
    group: CouncilGroup,
    by,
    name: str,
    contact_email: str,
    phone: str,
    postal_address: str,
) -> CouncilGroup:
    """Change a group's name and how the association reaches it."""
    with transaction.atomic():
        group = CouncilGroup.objects.select_for_update().get(pk=group.pk)
        group.name = name
        group.contact_email = contact_email
        group.phone = phone
        group.postal_address = postal_address
        group.full_clean()
        group._history_user = by
        group._change_reason = "Contact details edited"
        group.save()
    return group


def officer_appoint(*, group: CouncilGroup, role: str, user, start_date: date, by) -> GroupOfficer:
    """Appoint a serving councillor of the group's council to an office from `start_date`.

    The current holder's term ends on the same day, in the same transaction, so the office is
    never held twice nor left half-changed.
    """
    if role not in GroupOfficer.Role.values:
        raise ValidationError({"role": "Choose one of the offices listed."})
    with transaction.atomic():
        # One appointment to a group at a time: the row lock makes a second one wait for this.
        group = CouncilGroup.objects.select_for_update().get(pk=group.pk)
        if not officer_candidates(group).filter(pk=user.pk).exists():
            raise ValidationError(
                {"user": "Only a serving councillor on this council can hold a group office."}
            )
        holder = group.officers.select_for_update().filter(role=role, end_date__isnull=True).first()
        if holder is not None:
            if holder.user_id == user.pk:
                raise ValidationError({"user": f"{user} already holds this office."})
            if start_date < holder.start_date:
                raise ValidationError(
                    {
                        "start_date": "The start date cannot be before the current holder's "
                        f"({holder.start_date:%-d %B %Y})."
                    }
                )
            holder.end_date = start_date
            holder._history_user = by
            holder._change_reason = "Term ended by a new appointment"
            holder.save(update_fields=["end_date"])
        officer = GroupOfficer(group=group, role=role, user=user, start_date=start_date)
        officer._history_user = by
        officer._change_reason = "Appointed"
        officer.save()
    return officer


def officer_end(*, officer: GroupOfficer, end_date: date, by) -> GroupOfficer:
    """End an officer's term on `end_date`."""
    with transaction.atomic():
        officer = GroupOfficer.objects.select_for_update().get(pk=officer.pk)
        if officer.end_date is not None:
            raise ValidationError({"end_date": "This term has already ended."})
        if end_date < officer.start_date:
            began = f"{officer.start_date:%-d %B %Y}"
            raise ValidationError({"end_date": f"A term cannot end before it began ({began})."})
        officer.end_date = end_date
        officer._history_user = by
        officer._change_reason = "Term ended"
        officer.save(update_fields=["end_date"])
    return officer
