"""Staff read who changed a group, an officer or a representative appointment, and how."""

import datetime

import pytest
from django.urls import reverse
from factories import (
    CouncilGroupFactory,
    CouncillorFactory,
    RepresentativeFactory,
    StaffFactory,
)

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
