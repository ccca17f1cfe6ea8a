"""Staff appoint and remove regional representatives; the history is kept."""

import pytest
from django.db.models.signals import post_save
from django.urls import reverse
from django.utils import timezone
from factories import RegionFactory, RepresentativeFactory, StaffFactory, UserFactory

from members.services import onboarding, representative_appoint
from regions.models import RegionalRepresentative

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(StaffFactory())
    return client


def test_staff_see_current_representatives_by_region(staff_client):
    current = RepresentativeFactory(region=RegionFactory(name="Wales"), user__full_name="Rhian Rep")
    RepresentativeFactory(region=current.region, user__full_name="Old Rep", end_date="2020-01-01")
    page = staff_client.get(reverse("representatives")).text
    assert "Rhian Rep" in page
    assert "Old Rep" not in page


def test_staff_appoint_an_existing_user_by_email(staff_client):
    region = RegionFactory(name="Wales")
    person = UserFactory(email="rhian@example.org")
    response = staff_client.post(
        reverse("representatives"), {"email": "Rhian@Example.org", "region": region.pk}
    )
    assert response.status_code == 302
    appointment = RegionalRepresentative.objects.current().get(region=region)
    assert appointment.user == person
    assert appointment.history.count() == 1


def test_appointing_an_unknown_email_is_explained(staff_client):
    region = RegionFactory(name="Wales")
    response = staff_client.post(
        reverse("representatives"), {"email": "nobody@example.org", "region": region.pk}
    )
    assert response.status_code == 200
    assert "Nobody with this email address has an account" in response.text
    assert not RegionalRepresentative.objects.exists()


def test_removing_ends_the_appointment_today_and_keeps_history(staff_client):
    appointment = RepresentativeFactory()
    response = staff_client.post(reverse("representative_remove", args=[appointment.pk]))
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.end_date == timezone.localdate()
    assert not RegionalRepresentative.objects.current().filter(pk=appointment.pk).exists()
    assert [h.history_change_reason for h in appointment.history.all()] == [
        "Appointment ended",
        None,
    ]
    # Removing twice is a 404, not a second change.
    assert (
        staff_client.post(reverse("representative_remove", args=[appointment.pk])).status_code
        == 404
    )


class HistoryDown(Exception):
    pass


@pytest.fixture
def break_saving():
    """Call it to make every later save of an appointment fail just after its row is written."""

    def fail(**kwargs):
        raise HistoryDown

    yield lambda: post_save.connect(fail, sender=RegionalRepresentative, dispatch_uid="broken")
    post_save.disconnect(sender=RegionalRepresentative, dispatch_uid="broken")


def test_a_failed_removal_leaves_the_appointment_as_it_was(break_saving):
    appointment = RepresentativeFactory()
    break_saving()
    with pytest.raises(HistoryDown):
        onboarding.representative_remove(representative=appointment)
    appointment.refresh_from_db()
    assert appointment.end_date is None


def test_a_failed_appointment_leaves_nothing_behind(break_saving):
    person, region = UserFactory(), RegionFactory(name="Wales")
    break_saving()
    with pytest.raises(HistoryDown):
        representative_appoint(user=person, region=region)
    assert not RegionalRepresentative.objects.exists()
