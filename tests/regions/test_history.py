"""Staff read who changed a group, an officer, a representative appointment or a councillor,
and how."""

import datetime

import pytest
from django.urls import reverse
from factories import (
    CouncilGroupFactory,
    CouncillorFactory,
    PositionFactory,
    RepresentativeFactory,
    StaffFactory,
)

from members.services.staff import staff_appoint
from regions import services
from regions.models import RegionalRepresentative

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    staff = StaffFactory(full_name="Sam Staff")
    client.force_login(staff)
    return staff


def _edit(group, by, **changes):
    values = {
        "name": group.name,
        "contact_email": group.contact_email,
        "phone": group.phone,
        "postal_address": group.postal_address,
        **changes,
    }
    return services.group_contact_update(group=group, by=by, **values)


def test_group_history_shows_who_when_and_old_to_new(client, staff):
    group = CouncilGroupFactory(contact_email="old@labour.example.org")
    rep = RepresentativeFactory(region=group.council.region, user__full_name="Rita Rep").user
    _edit(group, rep, contact_email="new@labour.example.org")
    response = client.get(reverse("regions:history", args=["group", group.pk]))
    assert response.status_code == 200
    latest = response.context["changes"][0]
    assert latest.who == "Rita Rep"
    assert latest.kind == "Changed"
    assert [(f.label, f.old, f.new) for f in latest.fields] == [
        ("Contact email address", "old@labour.example.org", "new@labour.example.org")
    ]
    assert "<del>old@labour.example.org</del>" in response.text
    assert "<ins>new@labour.example.org</ins>" in response.text


def test_group_history_includes_its_officers(client, staff):
    group = CouncilGroupFactory()
    ann = CouncillorFactory(council=group.council, user__full_name="Ann Archer").user
    services.officer_appoint(
        group=group, role="leader", user=ann, start_date=datetime.date(2026, 5, 11), by=staff
    )
    response = client.get(reverse("regions:history", args=["group", group.pk]))
    latest = response.context["changes"][0]
    assert latest.subject == "Leader: Ann Archer"
    assert latest.who == "Sam Staff"
    assert ("Start date", "–", "11 May 2026") in [(f.label, f.old, f.new) for f in latest.fields]


def test_officer_history_shows_the_term_ending(client, staff):
    group = CouncilGroupFactory()
    ann = CouncillorFactory(council=group.council, user__full_name="Ann Archer").user
    officer = services.officer_appoint(
        group=group, role="secretary", user=ann, start_date=datetime.date(2026, 5, 11), by=staff
    )
    services.officer_end(officer=officer, end_date=datetime.date(2026, 9, 1), by=staff)
    response = client.get(reverse("regions:history", args=["officer", officer.pk]))
    changes = response.context["changes"]
    assert [c.kind for c in changes] == ["Changed", "Created"]
    assert [(f.label, f.old, f.new) for f in changes[0].fields] == [
        ("End date", "–", "1 September 2026")
    ]
    assert changes[0].reason == "Term ended"


def test_representative_history(client, staff):
    appointment = RepresentativeFactory(user__full_name="Rita Rep")
    appointment._history_user = staff
    appointment.end_date = datetime.date(2027, 1, 1)
    appointment.save()
    response = client.get(reverse("regions:history", args=["representative", appointment.pk]))
    changes = response.context["changes"]
    assert changes[0].who == "Sam Staff"
    assert [(f.label, f.new) for f in changes[0].fields] == [("End date", "1 January 2027")]
    assert "Rita Rep" in response.text
    assert RegionalRepresentative.history.count() == 2


def test_rep_cannot_read_history_of_their_own_group(client):
    group = CouncilGroupFactory()
    client.force_login(RepresentativeFactory(region=group.council.region).user)
    assert client.get(reverse("regions:history", args=["group", group.pk])).status_code == 403


# A councillor's history: profile, positions, account and roles, for staff only.


def test_staff_see_a_councillors_profile_changes_with_old_and_new_values(client, staff):
    councillor = CouncillorFactory(ward="Old Ward", phone="", user__full_name="Ann Archer")
    url = reverse("councillor_edit", args=[councillor.council.slug, councillor.pk])
    response = client.post(
        url, {"full_name": "Ann Archer-Smith", "ward": "New Ward", "phone": "020 7946 0000"}
    )
    assert response.status_code == 302

    response = client.get(reverse("councillor_history", args=[councillor.pk]))

    assert response.status_code == 200
    changes = response.context["changes"]
    by_subject = {c.subject: c for c in changes if c.kind == "Changed"}
    profile = by_subject["Councillor profile"]
    assert profile.who == "Sam Staff"
    assert profile.reason == "Edited by a representative"
    assert [(f.label, f.old, f.new) for f in profile.fields] == [
        ("Ward", "Old Ward", "New Ward"),
        ("Phone", "–", "020 7946 0000"),
    ]
    account = by_subject["Account"]
    assert [(f.label, f.old, f.new) for f in account.fields] == [
        ("Full name", "Ann Archer", "Ann Archer-Smith")
    ]
    assert "<del>Old Ward</del>" in response.text
    assert "<ins>New Ward</ins>" in response.text
    assert "password" not in response.text.lower()


def test_councillor_history_shows_positions_and_roles(client, staff):
    councillor = CouncillorFactory(user__full_name="Ann Archer")
    position = PositionFactory(councillor=councillor, title="Cabinet member for housing")
    position.title = "Deputy leader of the council"
    position._history_user = staff
    position.save()
    staff_appoint(user=councillor.user, job_title="Policy officer")
    appointment = RepresentativeFactory(user=councillor.user, region=councillor.council.region)

    changes = client.get(reverse("councillor_history", args=[councillor.pk])).context["changes"]

    subjects = [(c.subject, c.kind) for c in changes]
    assert ("Position: Deputy leader of the council", "Changed") in subjects
    assert ("Staff role", "Created") in subjects
    assert (f"Representative for {appointment.region}", "Created") in subjects
    renamed = next(c for c in changes if c.subject.startswith("Position") and c.kind == "Changed")
    assert renamed.who == "Sam Staff"
    assert [(f.old, f.new) for f in renamed.fields] == [
        ("Cabinet member for housing", "Deputy leader of the council")
    ]
    staff_role = next(c for c in changes if c.subject == "Staff role")
    assert ("Job title", "–", "Policy officer") in [
        (f.label, f.old, f.new) for f in staff_role.fields
    ]


def test_staff_reach_the_history_from_the_councillor_pages(client, staff):
    councillor = CouncillorFactory()
    history_url = reverse("councillor_history", args=[councillor.pk])
    slug = councillor.council.slug
    assert history_url in client.get(reverse("council_councillors", args=[slug])).text
    assert history_url in client.get(reverse("councillor_edit", args=[slug, councillor.pk])).text


def test_representatives_see_no_history_link(client):
    councillor = CouncillorFactory()
    client.force_login(RepresentativeFactory(region=councillor.council.region).user)
    page = client.get(reverse("council_councillors", args=[councillor.council.slug])).text
    assert reverse("councillor_edit", args=[councillor.council.slug, councillor.pk]) in page
    assert reverse("councillor_history", args=[councillor.pk]) not in page


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("the councillor", 403),  # their own profile: they know it exists
        ("rep of the region", 403),
        ("rep of another region", 404),
        ("councillor on the same council", 403),  # listed as a colleague: known to exist
        ("anonymous", 302),
    ],
)
def test_only_staff_read_a_councillors_history(client, who, expected):
    councillor = CouncillorFactory()
    people = {
        "the councillor": councillor.user,
        "rep of the region": RepresentativeFactory(region=councillor.council.region).user,
        "rep of another region": RepresentativeFactory().user,
        "councillor on the same council": CouncillorFactory(council=councillor.council).user,
        "anonymous": None,
    }
    if people[who] is not None:
        client.force_login(people[who])
    response = client.get(reverse("councillor_history", args=[councillor.pk]))
    assert response.status_code == expected
    if expected == 302:
        assert response.url.startswith(reverse("account_login"))
