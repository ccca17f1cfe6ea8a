"""Derivation of the portal's council data file, ``regions/data/councils.csv``.

The file lists every principal council in Great Britain with its region, seats, Labour seats,
control and scheduled elections. It is built from public source data by
``python manage.py build_council_data`` and loaded into the database by ``load_councils``
(see ``regions/services.py``). ``regions/data/README.md`` records the sources, their licences and
every data decision taken here.

This module needs neither the database nor Django settings, so it can be run and tested on its
own.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import io
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from django.utils.text import slugify

DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_CSV_PATH = DATA_DIR / "councils.csv"
README_PATH = DATA_DIR / "README.md"
# The project's data notes (docs/data.md) state the same counts.
PROJECT_README_PATH = DATA_DIR.parent.parent / "docs" / "data.md"

MYSOCIETY_FILE = "uk_local_authorities.csv"
HISTORY_FILE = "history2016-26.csv"
COMPOSITION_FILE = "councils_json_extract.csv"

# Year of the newest rows of the composition history file (a June 2026 snapshot).
HISTORY_YEAR = 2026

# The association's 11 regions.
REGION_NAMES = (
    "London",
    "Northern",
    "South West",
    "South East",
    "Eastern",
    "East Midlands",
    "West Midlands",
    "North West",
    "Wales",
    "Scotland",
    "Yorkshire and the Humber",
)

# mySociety's region names that differ from the association's.
REGION_ALIASES = {
    "North East": "Northern",
    "East of England": "Eastern",
    "Yorkshire and The Humber": "Yorkshire and the Humber",
}

# mySociety lists these two county councils in the wrong region; their districts are correct.
REGION_FIXES = {
    "E10000007": "East Midlands",  # Derbyshire County Council (source: West Midlands)
    "E10000019": "East Midlands",  # Lincolnshire County Council (source: Yorkshire and The Humber)
}

# mySociety still carries Barnsley's and Sheffield's pre-2021 GSS codes.
GSS_CODE_UPDATES = {
    "E08000016": "E08000038",  # Barnsley
    "E08000019": "E08000039",  # Sheffield
}

COUNCIL_KINDS = ("NMD", "UA", "MD", "LBO", "CC", "CTY", "SCO", "WPA")
EXCLUDED_KINDS = ("COMB", "SRA")  # combined authorities and the Greater London Authority

# Surrey local government reorganisation: Surrey County Council and its 11 districts are
# abolished at the end of 31 March 2027 and replaced by two unitary councils, elected in
# May 2026 as shadow authorities. The composition extract no longer lists the 12 councils.
SURREY_END_DATE = datetime.date(2027, 3, 31)
SURREY_VESTING_DAY = "1 April 2027"
SURREY_EAST = "East Surrey"
SURREY_WEST = "West Surrey"
SURREY_SUCCESSORS = {
    "E10000030": f"{SURREY_EAST} and {SURREY_WEST}",  # Surrey County Council
    "E07000207": SURREY_EAST,  # Elmbridge
    "E07000208": SURREY_EAST,  # Epsom and Ewell
    "E07000210": SURREY_EAST,  # Mole Valley
    "E07000211": SURREY_EAST,  # Reigate and Banstead
    "E07000215": SURREY_EAST,  # Tandridge
    "E07000209": SURREY_WEST,  # Guildford
    "E07000212": SURREY_WEST,  # Runnymede
    "E07000213": SURREY_WEST,  # Spelthorne
    "E07000214": SURREY_WEST,  # Surrey Heath
    "E07000216": SURREY_WEST,  # Waverley
    "E07000217": SURREY_WEST,  # Woking
}

# The shadow unitaries, keyed by the placeholder code the composition extract uses for them.
# Their real GSS codes come from the history file's GSS column (matched on the name).
SHADOW_AUTHORITIES = {
    "LGR-EASTSURREY": {"name": "East Surrey Council", "short_name": SURREY_EAST},
    "LGR-WESTSURREY": {"name": "West Surrey Council", "short_name": SURREY_WEST},
}
SHADOW_REGION = "South East"
SHADOW_KIND = "UA"
SHADOW_NOTE = f"Shadow authority until vesting day {SURREY_VESTING_DAY}."

# Number of distinct future poll dates -> election pattern.
PATTERNS = {0: "none", 1: "all-out", 2: "halves", 3: "thirds"}

FIELDNAMES = (
    "gss_code",
    "name",
    "short_name",
    "slug",
    "kind",
    "region",
    "total_seats",
    "vacant_seats",
    "labour_seats",
    "control",
    "election_pattern",
    "start_date",
    "end_date",
    "election_dates",
    "seats_up",
    "labour_seats_up",
    "notes",
)

SUMMARY_START = "<!-- council-summary:start -->"
SUMMARY_END = "<!-- council-summary:end -->"


class CouncilDataError(Exception):
    """The source data breaks an assumption the derivation relies on."""


@dataclasses.dataclass(frozen=True)
class ElectionRecord:
    date: datetime.date
    seats_up: int
    labour_seats_up: int


@dataclasses.dataclass(frozen=True)
class CouncilRecord:
    gss_code: str
    name: str
    short_name: str
    slug: str
    kind: str
    region: str
    total_seats: int
    vacant_seats: int
    labour_seats: int
    control: str
    election_pattern: str
    start_date: datetime.date | None
    end_date: datetime.date | None
    elections: tuple[ElectionRecord, ...]
    notes: str

    @property
    def group_name(self) -> str:
        """Name of the council's Labour group."""
        return labour_group_name(self.short_name)


@dataclasses.dataclass(frozen=True)
class RegionSummary:
    councils: int
    labour_groups: int


@dataclasses.dataclass
class BuildResult:
    records: list[CouncilRecord]
    report: list[str]


def labour_group_name(short_name: str) -> str:
    return f"{short_name} Labour Group"


# --- Reading the sources -------------------------------------------------------------------


def _read_dicts(path: Path, encoding: str = "utf-8-sig") -> list[dict[str, str]]:
    with path.open(encoding=encoding, newline="") as f:
        return list(csv.DictReader(f))


def read_mysociety_councils(source_dir: Path) -> list[dict[str, str]]:
    """Current principal councils in Great Britain from mySociety's register."""
    return [
        row
        for row in _read_dicts(Path(source_dir) / MYSOCIETY_FILE)
        if row["current-authority"] == "True"
        and row["nation"] != "Northern Ireland"
        and row["local-authority-type"] not in EXCLUDED_KINDS
    ]


def read_history(source_dir: Path, year: int = HISTORY_YEAR) -> dict[str, dict[str, str]]:
    """One year's rows of the composition history, keyed by GSS code.

    The file is cp1252-encoded and its 16th column, with an empty header, holds the GSS code.
    """
    with (Path(source_dir) / HISTORY_FILE).open(encoding="cp1252", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        if len(header) < 16 or header[15] != "" or header[:3] != ["id", "council id", "authority"]:
            raise CouncilDataError(f"{HISTORY_FILE}: unexpected header {header!r}")
        names = header[:15] + ["gss"]
        rows = {}
        for values in reader:
            row = dict(zip(names, values, strict=False))
            if row.get("year") == str(year):
                if row["gss"] in rows:
                    raise CouncilDataError(f"{HISTORY_FILE}: {row['gss']} twice in {year}")
                rows[row["gss"]] = row
    return rows


def read_composition(source_dir: Path) -> dict[str, dict[str, str]]:
    """The current composition extract, keyed by its ``gss`` column."""
    rows = {}
    for row in _read_dicts(Path(source_dir) / COMPOSITION_FILE):
        if row["gss"] in rows:
            raise CouncilDataError(f"{COMPOSITION_FILE}: {row['gss']} twice")
        rows[row["gss"]] = row
    return rows


# --- Derivation ----------------------------------------------------------------------------


def _parse_date(value: str) -> datetime.date | None:
    return datetime.date.fromisoformat(value) if value else None


def _split(value: str) -> list[str]:
    return value.split(";") if value else []


def _vesting_start_date(value: str) -> datetime.date | None:
    """mySociety's start date, kept only when it is a 1 April vesting day.

    Many of the register's start dates (most of them in 2005) record when the register entry
    began, not when the council was created; those are dropped.
    """
    start = _parse_date(value)
    return start if start and (start.month, start.day) == (4, 1) else None


def election_pattern(dates: Iterable[datetime.date]) -> str:
    count = len(set(dates))
    if count not in PATTERNS:
        raise CouncilDataError(f"{count} distinct future election dates: no pattern for that")
    return PATTERNS[count]


def _elections_from_composition(row: dict[str, str], report: list[str]) -> tuple:
    dates = [datetime.date.fromisoformat(d) for d in _split(row["election_dates"])]
    seats = [int(n) for n in _split(row["seats_up"])]
    labour = [int(n) for n in _split(row["lab_seats_up"])]
    name = row["ocd_name"]
    if not len(dates) == len(seats) == len(labour):
        raise CouncilDataError(f"{name}: election_dates, seats_up, lab_seats_up not aligned")
    if len(set(dates)) != len(dates):
        raise CouncilDataError(f"{name}: an election date appears twice")
    elections = tuple(
        sorted(
            (ElectionRecord(d, s, lab) for d, s, lab in zip(dates, seats, labour, strict=True)),
            key=lambda e: e.date,
        )
    )
    for e in elections:
        if e.labour_seats_up > e.seats_up:
            raise CouncilDataError(f"{name}: more Labour seats up than seats up on {e.date}")
    total, vacant, lab = (int(row[k]) for k in ("total_seats", "vacant_seats", "lab_seats"))
    if sum(seats) != total - vacant:
        report.append(f"{name}: seats up ({sum(seats)}) differ from filled ({total - vacant})")
    if sum(labour) != lab:
        report.append(f"{name}: Labour seats up ({sum(labour)}) differ from Labour seats ({lab})")
    pattern = election_pattern(dates)
    if row.get("cycle_pattern") and row["cycle_pattern"] != pattern:
        report.append(f"{name}: cycle_pattern {row['cycle_pattern']!r}, dates give {pattern!r}")
    return elections, pattern


def _region(row: dict[str, str], gss: str) -> str:
    region = REGION_FIXES.get(gss) or REGION_ALIASES.get(row["region"], row["region"])
    if region not in REGION_NAMES:
        raise CouncilDataError(f"{row['official-name']}: unknown region {row['region']!r}")
    return region


def _from_composition(base: dict, comp: dict[str, str], history: dict | None, report: list[str]):
    elections, pattern = _elections_from_composition(comp, report)
    notes = list(base.pop("notes", []))
    control = comp["control_label"]
    if control == "TBC" and history:
        notes.append(
            "Control shown as TBC (to be confirmed) in the October 2026 data; "
            f"June 2026 data: {history['majority']}."
        )
    return dict(
        base,
        total_seats=int(comp["total_seats"]),
        vacant_seats=int(comp["vacant_seats"]),
        labour_seats=int(comp["lab_seats"]),
        control=control,
        election_pattern=pattern,
        elections=elections,
        notes=" ".join(notes),
    )


def _from_history(base: dict, hist: dict[str, str], note: str) -> dict:
    notes = list(base.pop("notes", []))
    notes.append(note)
    return dict(
        base,
        total_seats=int(hist["total"]),
        # The history file records no vacancies: its party columns always add up to the total.
        vacant_seats=0,
        labour_seats=int(hist["lab"]),
        control=hist["majority"],
        election_pattern="none",
        elections=(),
        notes=" ".join(notes),
    )


def _assign_slugs(records: list[dict]) -> None:
    """Slug from the short name; clashes get the type code, then a number (GSS order)."""
    taken: set[str] = set()
    for rec in sorted(records, key=lambda r: r["gss_code"]):
        base = slugify(rec["short_name"])
        slug = base
        if slug in taken:
            slug = f"{base}-{rec['kind'].lower()}"
        n = 2
        while slug in taken:
            slug = f"{base}-{n}"
            n += 1
        taken.add(slug)
        rec["slug"] = slug


def build_council_records(source_dir: Path) -> BuildResult:
    """Derive the council records from the source files in ``source_dir``.

    Returns the records sorted by GSS code, and a report of every mismatch between the sources
    and how it was handled.
    """
    source_dir = Path(source_dir)
    report: list[str] = []
    councils = read_mysociety_councils(source_dir)
    history = read_history(source_dir)
    composition = read_composition(source_dir)
    used_composition: set[str] = set()
    records: list[dict] = []

    for row in councils:
        source_gss = row["gss-code"]
        gss = GSS_CODE_UPDATES.get(source_gss, source_gss)
        kind = row["local-authority-type"]
        if kind not in COUNCIL_KINDS:
            raise CouncilDataError(f"{row['official-name']}: unknown council type {kind!r}")
        base = {
            "gss_code": gss,
            "name": row["official-name"],
            "short_name": row["nice-name"],
            "kind": kind,
            "region": _region(row, source_gss),
            "start_date": _vesting_start_date(row["start-date"]),
            "end_date": None,
            "notes": [],
        }
        if gss != source_gss:
            base["notes"].append(f"Former GSS code {source_gss}.")
        hist = history.get(gss)
        if hist and row["open-council-data-id"]:
            ocd_id = str(int(float(row["open-council-data-id"])))
            if ocd_id != hist["council id"]:
                report.append(
                    f"{row['nice-name']}: Open Council Data id {hist['council id']} in "
                    f"{HISTORY_FILE}, {ocd_id} in {MYSOCIETY_FILE} (matched on GSS code)"
                )

        if gss in SURREY_SUCCESSORS:
            if gss in composition:
                raise CouncilDataError(
                    f"{row['nice-name']} ({gss}) is still in {COMPOSITION_FILE}: "
                    "revisit the Surrey handling"
                )
            if not hist:
                raise CouncilDataError(f"{row['nice-name']} ({gss}) missing from {HISTORY_FILE}")
            base["end_date"] = SURREY_END_DATE
            note = (
                f"Replaced by {SURREY_SUCCESSORS[gss]} on {SURREY_VESTING_DAY} (Surrey "
                "reorganisation). Seats as of June 2026; no further elections."
            )
            records.append(_from_history(base, hist, note))
        elif gss in composition:
            used_composition.add(gss)
            records.append(_from_composition(base, composition[gss], hist, report))
        elif hist:
            report.append(
                f"{row['nice-name']} ({gss}): not in {COMPOSITION_FILE}; "
                f"seats and control taken from {HISTORY_FILE} ({HISTORY_YEAR}), no elections"
            )
            note = "Seats as of June 2026; scheduled elections unknown."
            records.append(_from_history(base, hist, note))
        else:
            raise CouncilDataError(
                f"{row['nice-name']} ({gss}): in neither {COMPOSITION_FILE} nor {HISTORY_FILE}"
            )

    history_by_name = {h["authority"]: h for h in history.values()}
    for code, shadow in SHADOW_AUTHORITIES.items():
        comp = composition.get(code)
        if comp is None:
            raise CouncilDataError(f"{code} missing from {COMPOSITION_FILE}")
        hist = history_by_name.get(shadow["short_name"])
        if hist is None or not re.fullmatch(r"E06\d{6}", hist["gss"]):
            raise CouncilDataError(f"no unitary GSS code for {shadow['short_name']}")
        used_composition.add(code)
        base = {
            "gss_code": hist["gss"],
            "name": shadow["name"],
            "short_name": shadow["short_name"],
            "kind": SHADOW_KIND,
            "region": SHADOW_REGION,
            "start_date": None,
            "end_date": None,
            "notes": [SHADOW_NOTE],
        }
        records.append(_from_composition(base, comp, hist, report))

    northern_irish = sorted(g for g in composition if g.startswith("N"))
    if northern_irish:
        report.append(
            f"{len(northern_irish)} Northern Ireland councils in {COMPOSITION_FILE} left out "
            "(outside Great Britain)"
        )
    for gss in sorted(set(composition) - used_composition - set(northern_irish)):
        report.append(
            f"{composition[gss]['ocd_name']} ({gss}): in {COMPOSITION_FILE} but not a current "
            f"council in {MYSOCIETY_FILE}; left out"
        )

    _assign_slugs(records)
    result = [CouncilRecord(**rec) for rec in sorted(records, key=lambda r: r["gss_code"])]
    _check(result)
    return BuildResult(records=result, report=report)


def _check(records: list[CouncilRecord]) -> None:
    codes = Counter(r.gss_code for r in records)
    if dupes := [c for c, n in codes.items() if n > 1]:
        raise CouncilDataError(f"duplicate GSS codes: {dupes}")
    if missing := set(REGION_NAMES) - {r.region for r in records}:
        raise CouncilDataError(f"regions without councils: {sorted(missing)}")
    for r in records:
        if not 0 <= r.labour_seats <= r.total_seats or r.vacant_seats > r.total_seats:
            raise CouncilDataError(f"{r.name}: impossible seat numbers")


# --- The derived CSV -----------------------------------------------------------------------


def _iso(value: datetime.date | None) -> str:
    return value.isoformat() if value else ""


def record_to_row(record: CouncilRecord) -> dict[str, str]:
    values = dataclasses.asdict(record)
    values.pop("elections")
    row = {k: "" if v is None else str(v) for k, v in values.items()}
    row["start_date"] = _iso(record.start_date)
    row["end_date"] = _iso(record.end_date)
    row["election_dates"] = ";".join(e.date.isoformat() for e in record.elections)
    row["seats_up"] = ";".join(str(e.seats_up) for e in record.elections)
    row["labour_seats_up"] = ";".join(str(e.labour_seats_up) for e in record.elections)
    return row


def row_to_record(row: dict[str, str]) -> CouncilRecord:
    dates = _split(row["election_dates"])
    seats = _split(row["seats_up"])
    labour = _split(row["labour_seats_up"])
    if not len(dates) == len(seats) == len(labour):
        raise CouncilDataError(f"{row['gss_code']}: election columns not aligned")
    elections = tuple(
        ElectionRecord(datetime.date.fromisoformat(d), int(s), int(lab))
        for d, s, lab in zip(dates, seats, labour, strict=True)
    )
    return CouncilRecord(
        gss_code=row["gss_code"],
        name=row["name"],
        short_name=row["short_name"],
        slug=row["slug"],
        kind=row["kind"],
        region=row["region"],
        total_seats=int(row["total_seats"]),
        vacant_seats=int(row["vacant_seats"]),
        labour_seats=int(row["labour_seats"]),
        control=row["control"],
        election_pattern=row["election_pattern"],
        start_date=_parse_date(row["start_date"]),
        end_date=_parse_date(row["end_date"]),
        elections=elections,
        notes=row["notes"],
    )


def render_councils_csv(records: Iterable[CouncilRecord]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FIELDNAMES, lineterminator="\n")
    writer.writeheader()
    for record in sorted(records, key=lambda r: r.gss_code):
        writer.writerow(record_to_row(record))
    return out.getvalue()


def write_councils_csv(records: Iterable[CouncilRecord], path: Path = DEFAULT_CSV_PATH) -> None:
    Path(path).write_text(render_councils_csv(records), encoding="utf-8", newline="")


def read_councils_csv(path: Path | None = None) -> list[CouncilRecord]:
    with Path(path or DEFAULT_CSV_PATH).open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        if tuple(reader.fieldnames or ()) != FIELDNAMES:
            raise CouncilDataError(f"{path}: unexpected columns {reader.fieldnames}")
        return [row_to_record(row) for row in reader]


# --- Summary -------------------------------------------------------------------------------


def council_data_summary(path: Path | None = None) -> dict[str, RegionSummary]:
    """Per region (all 11, by name): councils in the data file, and those with Labour seats.

    Councils with Labour seats are the ones given a Labour group by the loader.
    """
    records = read_councils_csv(path)
    councils = Counter(r.region for r in records)
    groups = Counter(r.region for r in records if r.labour_seats > 0)
    return {
        name: RegionSummary(councils=councils[name], labour_groups=groups[name])
        for name in sorted(REGION_NAMES)
    }


def summary_table(summary: dict[str, RegionSummary]) -> str:
    """The summary as a Markdown table, with totals."""
    lines = [
        "| Region | Councils | Labour groups |",
        "| --- | ---: | ---: |",
    ]
    for name, s in summary.items():
        lines.append(f"| {name} | {s.councils} | {s.labour_groups} |")
    total_councils = sum(s.councils for s in summary.values())
    total_groups = sum(s.labour_groups for s in summary.values())
    lines.append(f"| **Total** | **{total_councils}** | **{total_groups}** |")
    return "\n".join(lines) + "\n"


def update_readme_summary(readme: Path, table: str) -> bool:
    """Replace the summary table between the markers in ``readme``. True if it changed."""
    text = readme.read_text(encoding="utf-8")
    start, end = text.find(SUMMARY_START), text.find(SUMMARY_END)
    if start < 0 or end < start:
        raise CouncilDataError(f"{readme}: summary markers not found")
    new = text[: start + len(SUMMARY_START)] + "\n" + table + text[end:]
    if new != text:
        readme.write_text(new, encoding="utf-8")
    return new != text
