"""The dashboards' cached parts (alc_portal/fragments.py): the region dashboard's totals, table,
chart and former councils, and the national overview. Each shows, on the very next request,
an edit by every role that can make one. Councillors change nothing these parts show: their own
edits (their profile) are not in them."""

import re
import threading

import pytest
from django.db import connection, connections, transaction
from django.urls import reverse
from django.utils import timezone
from factories import (
    CouncilFactory,
    CouncilGroupFactory,
    CouncillorFactory,
    ElectionFactory,
    RegionFactory,
    RepresentativeFactory,
    StaffFactory,
    UserFactory,
)

from alc_portal import fragments
from regions.models import Council, CouncilGroup

pytestmark = pytest.mark.django_db

REGION_URL = reverse("regions:region", args=["northshire"])
NATIONAL_URL = reverse("regions:national")


@pytest.fixture
def region():
    return RegionFactory(name="Northshire", slug="northshire")


@pytest.fixture
def council(region):
    council = CouncilFactory(
        region=region, short_name="Alpha", slug="alpha", total_seats=60, labour_seats=40
    )
    ElectionFactory(
        council=council,
        date=timezone.localdate().replace(year=timezone.localdate().year + 1),
        seats_up=20,
        labour_seats_up=15,
    )
    return council


@pytest.fixture
def group(council):
    return CouncilGroupFactory(council=council, name="Alpha Labour Group", contact_email="")


@pytest.fixture
def staff():
    return StaffFactory()


@pytest.fixture
def rep(region):
    return RepresentativeFactory(region=region, user__full_name="Rhian Rep").user


def _as(client, user):
    client.force_login(user)
    return client


def _national_row(page: str, region_name: str) -> list[str]:
    row = re.search(
        rf"<tr>\s*<th scope=\"row\"><a [^>]*>{region_name}</a></th>(.*?)</tr>", page, re.S
    )
    assert row, f"no row for {region_name}"
    return [
        re.sub(
            r"<[^>]+>", "", re.sub(r'<span class="visually-hidden">.*?</span>', "", cell)
        ).strip()
        for cell in re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), re.S)
    ]


def _councils_part(page: str) -> str:
    return page[page.index('<h2 id="councils-heading">') : page.index("</main>")]


def test_a_part_is_drawn_once_and_then_read_from_the_cache(
    client, staff, group, django_assert_max_num_queries
):
    _as(client, staff)
    first = client.get(REGION_URL).text
    # The session, the person, the region, the decisions waiting (the navigation) and the
    # representatives: nothing about the councils, which come from the cache.
    with django_assert_max_num_queries(5):
        again = client.get(REGION_URL).text
    assert _councils_part(again) == _councils_part(first)
    assert "Alpha Labour Group" in _councils_part(again)


def test_the_parts_hold_nothing_that_depends_on_who_is_looking(client, staff, group, rep):
    councillor = CouncillorFactory(council=group.council).user
    staff_page = _as(client, staff).get(REGION_URL).text
    assert "Import councillors from a spreadsheet" in staff_page
    assert "appointment history" in staff_page
    councillor_page = _as(client, councillor).get(REGION_URL).text
    assert "Alpha Labour Group" in councillor_page
    assert "Import councillors from a spreadsheet" not in councillor_page
    assert "appointment history" not in councillor_page


def test_a_correction_by_staff_shows_on_the_region_and_national_pages(client, staff, group):
    council = group.council
    election = council.elections.get()
    _as(client, staff)
    assert ">40<" in client.get(REGION_URL).text
    client.get(NATIONAL_URL)
    response = client.post(
        reverse("regions:council_correct", args=[council.slug]),
        {
            "total_seats": 60,
            "labour_seats": 41,
            "control": council.control,
            "reason": "By-election",
            "elections-TOTAL_FORMS": "1",
            "elections-INITIAL_FORMS": "1",
            "elections-0-date": election.date.isoformat(),
            "elections-0-seats_up": 20,
            "elections-0-labour_seats_up": 16,
        },
    )
    assert response.status_code == 302, response.text
    page = client.get(REGION_URL).text
    assert '<td class="num">41</td>' in page
    assert '<td class="num">16</td>' in page


def test_a_representatives_group_edit_shows_on_the_region_and_national_pages(
    client, staff, rep, group
):
    assert _national_row(_as(client, staff).get(NATIONAL_URL).text, "Northshire")[4] == "1"
    _as(client, rep)
    assert "Alpha Labour Group" in client.get(REGION_URL).text
    response = client.post(
        reverse("regions:group_edit", args=[group.pk]),
        {
            "name": "Alpha Labour and Co-operative Group",
            "contact_email": "group@alpha.example.org",
            "phone": "",
            "postal_address": "",
        },
    )
    assert response.status_code == 302
    assert "Alpha Labour and Co-operative Group" in client.get(REGION_URL).text
    # One group fewer without a contact address.
    assert _national_row(_as(client, staff).get(NATIONAL_URL).text, "Northshire")[4] == "0"


def test_a_representatives_appointment_of_a_leader_shows_in_the_filtered_table(client, rep, group):
    leader = CouncillorFactory(council=group.council, user__full_name="Lena Leader").user
    _as(client, rep)
    missing = client.get(REGION_URL, {"missing": "leader"}).text
    assert "Alpha Labour Group" in missing
    response = client.post(
        reverse("regions:group_officers", args=[group.pk]),
        {"role": "leader", "user": leader.pk, "start_date": timezone.localdate().isoformat()},
    )
    assert response.status_code == 302, response.text
    assert "Alpha Labour Group" not in client.get(REGION_URL, {"missing": "leader"}).text


def test_councillors_added_and_leaving_by_a_representative_show_on_the_national_page(
    client, staff, rep, group
):
    assert _national_row(_as(client, staff).get(NATIONAL_URL).text, "Northshire")[2] == "0"
    _as(client, rep)
    response = client.post(
        reverse("councillor_add", args=[group.council.slug]),
        {"full_name": "Mary Seacole", "email": "mary@example.org", "ward": "South", "phone": ""},
    )
    assert response.status_code == 302
    assert _national_row(_as(client, staff).get(NATIONAL_URL).text, "Northshire")[2] == "1"
    mary = group.council.councillors.get()
    _as(client, rep).post(
        reverse("councillor_leave", args=[group.council.slug, mary.pk]),
        {"left_on": timezone.localdate().isoformat(), "confirm": "on"},
    )
    assert _national_row(_as(client, staff).get(NATIONAL_URL).text, "Northshire")[2] == "0"


def test_a_representative_appointed_by_staff_shows_on_the_national_page(client, staff, region):
    person = UserFactory(email="owain@example.org", full_name="Owain Glyndwr")
    _as(client, staff)
    assert "None appointed" in _national_row(client.get(NATIONAL_URL).text, "Northshire")[3]
    response = client.post(reverse("representatives"), {"email": person.email, "region": region.pk})
    assert response.status_code == 302
    assert _national_row(client.get(NATIONAL_URL).text, "Northshire")[3] == "Owain Glyndwr"


def test_an_edit_in_the_admin_site_shows(client, group):
    superuser = StaffFactory(is_superuser=True)
    _as(client, superuser)
    assert "Alpha Labour Group" in client.get(REGION_URL).text
    change = reverse("admin:regions_councilgroup_change", args=[group.pk])
    form = client.get(change)
    assert form.status_code == 200
    data = {
        "council": group.council.pk,
        "name": "Alpha Labour Group (admin)",
        "contact_email": "",
        "phone": "",
        "postal_address": "",
        "_save": "Save",
    }
    response = client.post(change, data)
    assert response.status_code == 302, response.text
    assert "Alpha Labour Group (admin)" in client.get(REGION_URL).text


def test_a_write_that_sends_no_signal_shows_too(client, staff, group):
    _as(client, staff)
    assert "Alpha Labour Group" in client.get(REGION_URL).text
    CouncilGroup.objects.filter(pk=group.pk).update(name="Renamed by an update")
    assert "Renamed by an update" in client.get(REGION_URL).text


@pytest.mark.django_db(transaction=True)
def test_a_write_committed_by_another_connection_shows_on_the_next_request(client, region):
    """A write from elsewhere (a worker, a management command) on a connection of its own, in
    a transaction that a page reads during: the page after its commit shows it."""
    council = CouncilFactory(region=region, short_name="Alpha", labour_seats=40)
    client.force_login(StaffFactory())
    assert '<td class="num">40</td>' in client.get(REGION_URL).text
    written, read = threading.Event(), threading.Event()

    def elsewhere():
        try:
            with transaction.atomic():
                Council.objects.filter(pk=council.pk).update(labour_seats=41)
                written.set()
                # Another request draws the page while this transaction is open.
                assert read.wait(30)
        finally:
            connections.close_all()

    thread = threading.Thread(target=elsewhere)
    thread.start()
    assert written.wait(30)
    assert '<td class="num">40</td>' in client.get(REGION_URL).text
    read.set()
    thread.join(30)
    assert '<td class="num">41</td>' in client.get(REGION_URL).text


def test_writes_are_recognised_by_their_table():
    assert fragments.writes_watched_table('UPDATE "regions_council" SET "labour_seats" = 1')
    assert fragments.writes_watched_table('INSERT INTO "members_councillor" ("user_id") VALUES (1)')
    assert fragments.writes_watched_table('DELETE FROM "regions_groupofficer" WHERE id = 1')
    assert fragments.writes_watched_table('TRUNCATE "campaigns_mailing", "regions_council";')
    assert not fragments.writes_watched_table('SELECT * FROM "regions_council"')
    assert not fragments.writes_watched_table('UPDATE "campaigns_delivery" SET "status" = 1')
    assert not fragments.writes_watched_table('INSERT INTO "regions_historicalcouncil" VALUES (1)')
    assert not fragments.writes_watched_table('UPDATE "members_councillorimport" SET "status" = 1')
    assert connection.execute_wrappers.count(fragments._watch) == 1
