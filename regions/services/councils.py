"""Writes for councils: loading the council data file, and the corrections national staff make
after a by-election or an election night.

``councils_load`` runs at every start-up, so it must be idempotent and quick: it reads
``regions/data/councils.csv`` once, compares it with what is stored and writes only the
differences, in bulk and in one transaction.

A council's figures can be corrected by staff between two releases of the data file. So that
loading the same file again does not undo a correction, each council remembers what the file
said when it was last loaded (`Council.file_values`), and a field is taken from the file only
when the file's value has changed since: a newer file wins, an unchanged one leaves the
council as staff left it. Elections are compared as a whole in the same way.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from regions import councildata
from regions.models import Council, CouncilGroup, Election, Region
from regions.signals import councils_written_in_bulk

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
FROM_FILE = "Updated from the council data"


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
class Change:
    """One difference the file makes to a council: a field's old and new value."""

    council: str
    what: str
    old: str
    new: str

    def __str__(self):
        return f"{self.council}: {self.what}: {self.old} → {self.new}"


@dataclasses.dataclass
class LoadResult:
    regions: LoadCounts = dataclasses.field(default_factory=LoadCounts)
    councils: LoadCounts = dataclasses.field(default_factory=LoadCounts)
    elections: LoadCounts = dataclasses.field(default_factory=LoadCounts)
    groups: LoadCounts = dataclasses.field(default_factory=LoadCounts)
    changes: list[Change] = dataclasses.field(default_factory=list)

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


def councils_load(*, path: Path | None = None, dry_run: bool = False) -> LoadResult:
    """Load the council data file (the bundled one by default) into the database.

    Creates or updates the 11 regions, every council in the file, their scheduled elections
    and a Labour group for each council with Labour seats, and lists each change in
    `changes`. Councils missing from the file are left alone, and so are existing groups (their
    names may have been edited). With `dry_run`, works out the same changes and writes nothing.
    """
    records = councildata.read_councils_csv(path)
    result = LoadResult()
    with transaction.atomic():
        regions = _load_regions(records, result.regions)
        councils = _load_councils(records, regions, result)
        _load_elections(records, councils, result)
        _load_groups(records, councils, result.groups)
        if dry_run:
            transaction.set_rollback(True)
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


def _plain(value):
    return value.isoformat() if isinstance(value, date) else value


def _file_values(record, region: Region) -> dict:
    """What the file says of a council, as plain values (kept on the council as it loads)."""
    values = {f: _plain(getattr(record, f)) for f in COUNCIL_FIELDS if f != "region_id"}
    values["region_id"] = region.name
    values["elections"] = [
        [e.date.isoformat(), e.seats_up, e.labour_seats_up] for e in record.elections
    ]
    return values


def _load_councils(records, regions: dict[str, Region], result: LoadResult) -> dict[str, Council]:
    counts = result.councils
    existing = Council.objects.in_bulk([r.gss_code for r in records], field_name="gss_code")
    to_create, to_update, changed_fields = [], [], {"file_values"}
    for record in records:
        region = regions[record.region]
        values = {field: getattr(record, field) for field in COUNCIL_FIELDS if field != "region_id"}
        values["region_id"] = region.pk
        from_file = _file_values(record, region)
        council = existing.get(record.gss_code)
        if council is None:
            council = Council(gss_code=record.gss_code, file_values=from_file, **values)
            council._elections_from_file = True
            to_create.append(council)
            result.changes.append(Change(record.name, "council", "–", "added"))
            continue
        before = council.file_values or {}
        council._elections_from_file = before.get("elections") != from_file["elections"]
        # Only what the file changed since it was last loaded: staff corrections stay.
        changed = [
            field
            for field, value in values.items()
            if before.get(field, object()) != from_file[field] and getattr(council, field) != value
        ]
        for field in changed:
            old = getattr(council, field)
            setattr(council, field, values[field])
            result.changes.append(Change(council.name, field, str(old), str(values[field])))
        if changed or before != from_file:
            council.file_values = from_file
            changed_fields.update(changed)
            to_update.append(council)
            counts.updated += bool(changed)
        else:
            counts.unchanged += 1
    if to_update:
        bulk_update_with_history(
            to_update, Council, sorted(changed_fields), default_change_reason=FROM_FILE
        )
    if to_create:
        bulk_create_with_history(to_create, Council, default_change_reason=FROM_FILE)
    if to_update or to_create:
        written = [council.pk for council in [*to_update, *to_create]]
        councils_written_in_bulk.send(sender=Council, council_ids=written)
    counts.created = len(to_create)
    return {council.gss_code: council for council in [*existing.values(), *to_create]}


def _load_elections(records, councils: dict[str, Council], result: LoadResult) -> None:
    """The elections of councils whose file elections changed since the last load (or that
    are new): made exactly as the file lists them."""
    counts = result.elections
    taken = {council.pk: council for council in councils.values() if council._elections_from_file}
    wanted = {
        (councils[record.gss_code].pk, election.date): election
        for record in records
        if councils[record.gss_code].pk in taken
        for election in record.elections
    }
    existing = {
        (election.council_id, election.date): election
        for election in Election.objects.filter(council_id__in=list(taken))
    }
    to_create, to_update = [], []
    for key, data in wanted.items():
        election = existing.get(key)
        name = taken[key[0]].name
        figures = (data.seats_up, data.labour_seats_up)
        if election is None:
            to_create.append(Election(council_id=key[0], date=data.date, seats_up=figures[0],
                                      labour_seats_up=figures[1]))  # fmt: skip
            result.changes.append(Change(name, f"election on {data.date}", "–", _seats(*figures)))
        elif (election.seats_up, election.labour_seats_up) != figures:
            old = _seats(election.seats_up, election.labour_seats_up)
            election.seats_up, election.labour_seats_up = figures
            to_update.append(election)
            result.changes.append(Change(name, f"election on {data.date}", old, _seats(*figures)))
        else:
            counts.unchanged += 1
    stale = [election for key, election in existing.items() if key not in wanted]
    for election in stale:
        result.changes.append(
            Change(taken[election.council_id].name, f"election on {election.date}", "listed", "–")
        )
    if stale:
        Election.objects.filter(pk__in=[e.pk for e in stale]).delete()
    if to_update:
        bulk_update_with_history(
            to_update, Election, ["seats_up", "labour_seats_up"], default_change_reason=FROM_FILE
        )
    if to_create:
        bulk_create_with_history(to_create, Election, default_change_reason=FROM_FILE)
    counts.created, counts.updated, counts.deleted = len(to_create), len(to_update), len(stale)


def _seats(seats_up: int, labour_seats_up: int) -> str:
    return f"{seats_up} seats up, {labour_seats_up} Labour"


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
        councils_written_in_bulk.send(
            sender=CouncilGroup, council_ids=[group.council_id for group in to_create]
        )
    counts.created = len(to_create)


@transaction.atomic
def council_correct(
    *,
    council: Council,
    by,
    total_seats: int,
    labour_seats: int,
    control: str,
    elections: list[dict],
    reason: str,
) -> Council:
    """Correct a council's figures and upcoming elections after a by-election, a defection or
    an election night, before a newer data file says the same. Each change keeps its history
    (who, when, why); past elections are left as they were. `elections` lists the upcoming
    polls as they should be: {"date", "seats_up", "labour_seats_up"}."""
    council = Council.objects.select_for_update().get(pk=council.pk)
    if labour_seats > total_seats:
        raise ValidationError({"labour_seats": "There cannot be more Labour seats than seats."})
    why = f"Corrected by {by}: {reason.strip()}" if reason.strip() else f"Corrected by {by}"
    council.total_seats, council.labour_seats, council.control = total_seats, labour_seats, control
    council._history_user, council._change_reason = by, why
    council.full_clean()
    council.save(update_fields=["total_seats", "labour_seats", "control"])
    upcoming = {e.date: e for e in council.elections.upcoming().select_for_update()}
    wanted = {row["date"]: row for row in elections}
    for day, election in upcoming.items():
        if day not in wanted:
            election._history_user, election._change_reason = by, why
            election.delete()
    for day, row in wanted.items():
        election = upcoming.get(day) or Election(council=council, date=day)
        if election.pk and (election.seats_up, election.labour_seats_up) == (
            row["seats_up"],
            row["labour_seats_up"],
        ):
            continue
        if row["labour_seats_up"] > row["seats_up"]:
            raise ValidationError(f"On {day:%-d %B %Y}: more Labour seats up than seats up.")
        election.seats_up, election.labour_seats_up = row["seats_up"], row["labour_seats_up"]
        election._history_user, election._change_reason = by, why
        election.save()
    return council
