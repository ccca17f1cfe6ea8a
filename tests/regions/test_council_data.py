"""The derived council data file (regions/data/councils.csv) and its loader."""

import csv
import dataclasses
import datetime
import io
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db.models import Count

from regions import councildata
from regions.models import Council, CouncilGroup, Election, Region
from regions.services import councils_load

SOURCE_DIR = Path(settings.BASE_DIR).parent / "shared" / "data"
needs_sources = pytest.mark.skipif(
    not SOURCE_DIR.is_dir(), reason="the public source data is not available here"
)

SURREY_CODES = set(councildata.SURREY_SUCCESSORS)


@pytest.fixture(scope="module")
def records():
    return councildata.read_councils_csv()


@pytest.fixture(scope="module")
def by_code(records):
    return {r.gss_code: r for r in records}


# --- The derivation ------------------------------------------------------------------------


@needs_sources
def test_rebuild_from_sources_reproduces_committed_file():
    result = councildata.build_council_records(SOURCE_DIR)
    committed = councildata.DEFAULT_CSV_PATH.read_text(encoding="utf-8")
    assert councildata.render_councils_csv(result.records) == committed


@needs_sources
def test_rebuild_reports_only_the_northern_ireland_councils():
    result = councildata.build_council_records(SOURCE_DIR)
    assert len(result.report) == 1
    assert "11 Northern Ireland councils" in result.report[0]


def test_header_is_exactly_the_documented_columns():
    with councildata.DEFAULT_CSV_PATH.open(encoding="utf-8", newline="") as f:
        header = next(csv.reader(f))
    assert header == [
        "gss_code", "name", "short_name", "slug", "kind", "region", "total_seats",
        "vacant_seats", "labour_seats", "control", "election_pattern", "start_date", "end_date",
        "election_dates", "seats_up", "labour_seats_up", "notes",
    ]  # fmt: skip


def test_every_principal_council_plus_the_surrey_shadow_unitaries(records):
    assert len(records) == 373
    assert Counter(r.kind for r in records) == {
        "NMD": 164, "UA": 65, "MD": 36, "LBO": 32, "CC": 1, "CTY": 21, "SCO": 32, "WPA": 22,
    }  # fmt: skip


def test_rows_sorted_by_unique_gss_code_with_unique_slugs(records):
    codes = [r.gss_code for r in records]
    assert codes == sorted(set(codes))
    assert len({r.slug for r in records}) == len(records)
    assert not [r for r in records if r.gss_code.startswith(("N", "LGR"))]


def test_exactly_eleven_regions_and_every_council_has_one(records):
    assert len(councildata.REGION_NAMES) == 11
    assert {r.region for r in records} == set(councildata.REGION_NAMES)
    assert set(councildata.REGION_NAMES) == {
        "London", "Northern", "South West", "South East", "Eastern", "East Midlands",
        "West Midlands", "North West", "Wales", "Scotland", "Yorkshire and the Humber",
    }  # fmt: skip


def test_derbyshire_and_lincolnshire_county_councils_in_east_midlands(by_code):
    assert by_code["E10000007"].name == "Derbyshire County Council"
    assert by_code["E10000019"].name == "Lincolnshire County Council"
    assert by_code["E10000007"].region == "East Midlands"
    assert by_code["E10000019"].region == "East Midlands"


def test_barnsley_and_sheffield_use_current_codes(by_code):
    assert by_code["E08000038"].short_name == "Barnsley"
    assert by_code["E08000039"].short_name == "Sheffield"
    assert "E08000016" not in by_code
    assert "E08000019" not in by_code
    # Matched to the composition data, so they have seats and elections.
    assert by_code["E08000039"].total_seats == 84
    assert by_code["E08000039"].elections


def test_surrey_councils_being_abolished(by_code):
    for code in SURREY_CODES:
        council = by_code[code]
        assert council.end_date == datetime.date(2027, 3, 31)
        assert council.election_pattern == "none"
        assert council.elections == ()
    assert by_code["E10000030"].total_seats == 81
    assert by_code["E10000030"].labour_seats == 2


def test_surrey_shadow_unitaries(by_code):
    for code, short_name in [("E06000067", "East Surrey"), ("E06000068", "West Surrey")]:
        council = by_code[code]
        assert council.short_name == short_name
        assert (council.kind, council.region) == ("UA", "South East")
        assert council.start_date is None
        assert council.end_date is None
        assert "Shadow authority" in council.notes


def test_elections_add_up_to_the_filled_seats(records):
    for r in records:
        if r.election_pattern == "none":
            assert r.elections == ()
            continue
        assert sum(e.seats_up for e in r.elections) == r.total_seats - r.vacant_seats, r.name
        assert sum(e.labour_seats_up for e in r.elections) == r.labour_seats, r.name
        expected = {1: "all-out", 2: "halves", 3: "thirds"}[len(r.elections)]
        assert r.election_pattern == expected, r.name
        assert all(e.labour_seats_up <= e.seats_up for e in r.elections)


@pytest.mark.parametrize("readme_path", [councildata.README_PATH, councildata.PROJECT_README_PATH])
def test_readme_summary_table_matches_the_file(readme_path):
    table = councildata.summary_table(councildata.council_data_summary())
    readme = readme_path.read_text(encoding="utf-8")
    assert f"{councildata.SUMMARY_START}\n{table}{councildata.SUMMARY_END}" in readme


def test_summary_totals(records):
    summary = councildata.council_data_summary()
    assert list(summary) == sorted(councildata.REGION_NAMES)
    assert sum(s.councils for s in summary.values()) == len(records)
    assert sum(s.labour_groups for s in summary.values()) == sum(
        1 for r in records if r.labour_seats > 0
    )


# --- The loader ----------------------------------------------------------------------------


def _row_counts():
    return tuple(m.objects.count() for m in (Region, Council, Election, CouncilGroup))


@pytest.mark.django_db
def test_load_creates_regions_councils_elections_and_groups(records):
    result = councils_load()

    assert Region.objects.count() == 11
    assert Council.objects.count() == len(records)
    east_midlands = Council.objects.filter(region__name="East Midlands")
    assert set(
        east_midlands.filter(gss_code__in=["E10000007", "E10000019"]).values_list("name", flat=True)
    ) == {"Derbyshire County Council", "Lincolnshire County Council"}
    assert result.regions.created == 11
    assert result.councils.created == len(records)
    assert result.elections.created == sum(len(r.elections) for r in records)
    assert Election.objects.count() == result.elections.created

    summary = councildata.council_data_summary()
    councils = dict(
        Region.objects.annotate(n=Count("councils")).values_list("name", "n"),
    )
    groups = Counter(CouncilGroup.objects.values_list("council__region__name", flat=True))
    assert councils == {name: s.councils for name, s in summary.items()}
    assert {name: groups[name] for name in summary} == {
        name: s.labour_groups for name, s in summary.items()
    }
    assert CouncilGroup.objects.get(council__gss_code="E09000007").name == "Camden Labour Group"
    assert Region.objects.get(name="Yorkshire and the Humber").slug == "yorkshire-and-the-humber"


@pytest.mark.django_db
def test_load_twice_changes_nothing():
    councils_load()
    before = _row_counts()
    result = councils_load()
    assert not result.changed
    for counts in (result.regions, result.councils, result.elections, result.groups):
        assert (counts.created, counts.updated, counts.deleted) == (0, 0, 0)
    assert result.councils.unchanged == before[1]
    assert _row_counts() == before


@pytest.mark.django_db
def test_each_loaded_group_starts_its_history_with_where_it_came_from():
    councils_load()
    groups = CouncilGroup.objects.count()
    first_rows = CouncilGroup.history.filter(history_type="+")
    assert first_rows.count() == groups > 0
    assert set(first_rows.values_list("history_change_reason", flat=True)) == {
        "Created from the council data"
    }
    councils_load()  # loading again records nothing new
    assert CouncilGroup.history.count() == groups


@pytest.mark.django_db
def test_elections_of_a_council_match_the_file(by_code):
    councils_load()
    sheffield = Council.objects.get(gss_code="E08000039")
    stored = [(e.date, e.seats_up, e.labour_seats_up) for e in sheffield.elections.all()]
    expected = [(e.date, e.seats_up, e.labour_seats_up) for e in by_code["E08000039"].elections]
    assert stored == expected
    assert [d for d, _, _ in stored] == [
        datetime.date(2027, 5, 6),
        datetime.date(2028, 5, 4),
        datetime.date(2030, 5, 2),
    ]
    assert sheffield.region.name == "Yorkshire and the Humber"
    assert sheffield.election_pattern == "thirds"


@pytest.mark.django_db
def test_reload_applies_changes_and_keeps_groups(tmp_path, records):
    councils_load()
    camden = next(r for r in records if r.gss_code == "E09000007")
    sheffield = next(r for r in records if r.gss_code == "E08000039")
    changed = {
        # Camden loses all its Labour seats: its group stays.
        camden.gss_code: dataclasses.replace(
            camden,
            labour_seats=0,
            elections=tuple(dataclasses.replace(e, labour_seats_up=0) for e in camden.elections),
        ),
        # Sheffield's last poll is dropped: the stored election goes.
        sheffield.gss_code: dataclasses.replace(sheffield, elections=sheffield.elections[:-1]),
    }
    path = tmp_path / "councils.csv"
    councildata.write_councils_csv([changed.get(r.gss_code, r) for r in records], path)

    result = councils_load(path=path)

    assert result.councils.updated == 1
    assert result.elections.updated == len(camden.elections)
    assert result.elections.deleted == 1
    assert result.groups.created == 0
    assert CouncilGroup.objects.filter(council__gss_code=camden.gss_code).exists()
    assert Council.objects.get(gss_code=camden.gss_code).labour_seats == 0
    assert Election.objects.filter(council__gss_code=sheffield.gss_code).count() == 2
    assert not councils_load(path=path).changed


# --- The rebuild command -------------------------------------------------------------------


STALE_README = f"Notes\n{councildata.SUMMARY_START}\n| stale |\n{councildata.SUMMARY_END}\n"


@needs_sources
def test_rebuild_elsewhere_updates_the_notes_there_and_leaves_the_project_readme(
    tmp_path, monkeypatch
):
    # Stand-ins for the project README and for notes next to the output, both out of date.
    project_readme = tmp_path / "project-README.md"
    project_readme.write_text(STALE_README)
    monkeypatch.setattr(councildata, "PROJECT_README_PATH", project_readme)
    output = tmp_path / "out" / "councils.csv"
    output.parent.mkdir()
    notes = output.parent / councildata.README_PATH.name
    notes.write_text(STALE_README)

    call_command("build_council_data", output=output, stdout=io.StringIO())

    committed = councildata.DEFAULT_CSV_PATH.read_text(encoding="utf-8")
    assert output.read_text(encoding="utf-8") == committed
    assert "| stale |" not in notes.read_text() and "| East Midlands |" in notes.read_text()
    assert project_readme.read_text() == STALE_README


def test_rebuild_names_a_missing_folder(tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        call_command("build_council_data", source=tmp_path / "nowhere", stdout=io.StringIO())
    if SOURCE_DIR.is_dir():
        with pytest.raises(CommandError, match="Output directory .* does not exist"):
            call_command(
                "build_council_data", output=tmp_path / "no" / "councils.csv", stdout=io.StringIO()
            )
