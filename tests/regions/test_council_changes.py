"""Council data after elections and reorganisations: staff corrections with history, a newer
data file shown before it is applied, and councils that end (Surrey, 1 April 2027)."""

import csv
import datetime
import io
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from factories import CouncillorFactory, RepresentativeFactory, StaffFactory

from campaigns.audience import audience_groups
from regions import councildata
from regions.models import Council, CouncilGroup, Election, Region
from regions.services import councils_load

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
SURREY_ENDED = [
    "Elmbridge", "Epsom and Ewell", "Guildford", "Mole Valley", "Reigate and Banstead",
    "Runnymede", "Spelthorne", "Surrey Heath", "Tandridge", "Waverley", "Woking", "Surrey",
]  # fmt: skip


def _at(day: datetime.date):
    return time_machine.travel(datetime.datetime(day.year, day.month, day.day, 12, tzinfo=LONDON))


@pytest.fixture
def staff_client(client):
    client.force_login(StaffFactory())
    return client


def _surrey_groups():
    return CouncilGroup.objects.filter(council__short_name__in=SURREY_ENDED)


def test_on_1_april_2027_the_ended_surrey_councils_leave_audiences_but_stay_readable(
    gb_councils, client
):
    south_east = Region.objects.get(name="South East")
    surrey_groups = set(_surrey_groups().values_list("pk", flat=True))
    assert len(surrey_groups) == 7  # the groups on the councils that end

    staff = StaffFactory()
    staff_client = client
    with _at(datetime.date(2027, 3, 31)):
        # Signed in on the day: a staff session lasts hours, not months.
        staff_client.force_login(staff)
        everyone = set(audience_groups().values_list("pk", flat=True))
        assert surrey_groups <= everyone
        page = staff_client.get(reverse("regions:region", args=[south_east.slug])).text
        assert "Former councils" not in page

    with _at(datetime.date(2027, 4, 1)):
        staff_client.force_login(staff)
        for rule in ({}, {"region_ids": [south_east.pk]}, {"council_kinds": ["NMD", "CTY"]}):
            assert not surrey_groups & set(audience_groups(**rule).values_list("pk", flat=True))
        page = staff_client.get(reverse("regions:region", args=[south_east.slug])).text
        former = page.split("Former councils", 1)[1]
        for name in SURREY_ENDED:
            assert f">{name}</a>" in former
        # The dashboard's figures count only councils in being.
        councils_table = page.split("Former councils", 1)[0]
        assert ">Woking</a>" not in councils_table
        for group in _surrey_groups():
            assert staff_client.get(group.get_absolute_url()).status_code == 200
            history = reverse("regions:history", args=["group", group.pk])
            assert staff_client.get(history).status_code == 200
            council = reverse("regions:council", args=[group.council.slug])
            assert "This council no longer exists" in staff_client.get(council).text
        # A form that offers councils offers only those in being.
        join = Client().get(reverse("join")).text
        assert "Woking Borough Council" not in join and "West Surrey Council" in join


def _changed_copy(tmp_path: Path) -> Path:
    """The bundled data file with three changes: a by-election gain, a new control, and one
    election's seats."""
    text = councildata.DEFAULT_CSV_PATH.read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    for row in rows:
        if row["short_name"] == "Cardiff":
            row["labour_seats"] = str(int(row["labour_seats"]) + 1)
        if row["short_name"] == "Swansea":
            row["control"] = "NOC"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path = tmp_path / "councils.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def _snapshot():
    return (
        list(Council.objects.order_by("pk").values_list("pk", "labour_seats", "control")),
        list(Election.objects.order_by("pk").values_list("pk", "seats_up", "labour_seats_up")),
        Council.history.count(),
        Election.history.count(),
    )


def test_a_dry_run_lists_exactly_the_changes_and_writes_nothing(gb_councils, tmp_path):
    path = _changed_copy(tmp_path)
    cardiff = Council.objects.get(short_name="Cardiff")
    before = _snapshot()
    out = io.StringIO()
    call_command("load_councils", str(path), "--dry-run", stdout=out)
    assert _snapshot() == before
    lines = out.getvalue().splitlines()
    swansea = Council.objects.get(short_name="Swansea")
    assert [line for line in lines if not line.startswith("  ")][:-1] == sorted(
        [cardiff.name, swansea.name]
    )
    assert "2 change(s) to 2 council(s); nothing was written" in lines[-1]
    assert f"  labour_seats: {cardiff.labour_seats} → {cardiff.labour_seats + 1}" in lines
    assert f"  control: {swansea.control} → NOC" in lines
    assert len([line for line in lines if line.startswith("  ")]) == 2

    expected = cardiff.labour_seats + 1
    call_command("load_councils", str(path), stdout=io.StringIO())
    cardiff.refresh_from_db()
    assert cardiff.labour_seats == expected


def test_staff_correct_a_council_after_a_by_election_with_history(gb_councils, staff_client):
    council = Council.objects.get(short_name="Cardiff")
    upcoming = council.elections.upcoming().first()
    url = reverse("regions:council_correct", args=[council.slug])
    page = staff_client.get(url)
    assert page.status_code == 200
    data = {
        "total_seats": council.total_seats,
        "labour_seats": council.labour_seats + 1,
        "control": council.control,
        "reason": "By-election in Riverside ward, 3 June 2027",
        "elections-TOTAL_FORMS": "2",
        "elections-INITIAL_FORMS": "1",
        "elections-0-date": upcoming.date.isoformat(),
        "elections-0-seats_up": upcoming.seats_up,
        "elections-0-labour_seats_up": upcoming.labour_seats_up + 1,
        "elections-1-date": "",
        "elections-1-seats_up": "",
        "elections-1-labour_seats_up": "",
    }
    response = staff_client.post(url, data)
    assert response.status_code == 302, response.content
    council.refresh_from_db()
    upcoming.refresh_from_db()
    assert upcoming.labour_seats_up == data["elections-0-labour_seats_up"]
    history = staff_client.get(reverse("regions:history", args=["council", council.pk])).text
    assert "By-election in Riverside ward" in history
    # Loading the same data file again keeps the correction.
    councils_load()
    council.refresh_from_db()
    assert council.labour_seats == data["labour_seats"]


def test_a_correction_that_does_not_add_up_is_refused_and_saves_nothing(gb_councils, staff_client):
    council = Council.objects.get(short_name="Cardiff")
    url = reverse("regions:council_correct", args=[council.slug])
    response = staff_client.post(
        url,
        {
            "total_seats": 10,
            "labour_seats": 11,
            "control": "LAB",
            "reason": "Typo",
            "elections-TOTAL_FORMS": "0",
            "elections-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "more Labour seats than seats" in response.text
    council.refresh_from_db()
    assert council.total_seats != 10


@pytest.mark.parametrize("who", ["councillor", "representative"])
def test_only_the_national_office_corrects_council_figures(gb_councils, client, who):
    council = Council.objects.get(short_name="Cardiff")
    user = (
        CouncillorFactory(council=council).user
        if who == "councillor"
        else RepresentativeFactory(region=council.region).user
    )
    client.force_login(user)
    url = reverse("regions:council_correct", args=[council.slug])
    assert client.get(url).status_code == 403
    before = council.labour_seats
    client.post(url, {"total_seats": 99, "labour_seats": 99, "control": "LAB", "reason": "x"})
    council.refresh_from_db()
    assert council.labour_seats == before
