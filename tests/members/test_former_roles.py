"""Roles end when they end.

A councillor marked as having left keeps their own pages (their profile, its contact details
and preferences, their data export and erasure request) and loses everything the councillor role
gave them: their region, council, group and colleagues, council or ward changes, levy waivers.
Marking them as left closes the requests only a serving councillor may make.
"""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from factories import (
    CouncilFactory,
    CouncilGroupFactory,
    CouncillorFactory,
    LevyWaiverFactory,
    ProfileChangeFactory,
    RegionFactory,
    RepresentativeFactory,
    StaffFactory,
    profile_form_data,
)

from members import services
from members.models import (
    Councillor,
    Decision,
    ErasureRequest,
    LevyWaiver,
    ProfileChange,
    User,
)
from members.services import invitations
from members.services.notices import notices_send_due

pytestmark = pytest.mark.django_db

LEFT = "no longer a councillor"


@pytest.fixture
def world():
    region = RegionFactory(name="Region X", slug="region-x")
    council = CouncilFactory(region=region, slug="council-x")
    other_council = CouncilFactory(region=region, slug="other-council-x")
    return {
        "region": region,
        "council": council,
        "other_council": other_council,
        "group": CouncilGroupFactory(council=council),
        "councillor": CouncillorFactory(
            council=council, ward="Castle", user__full_name="Robin Serving", phone=""
        ),
        "rep": RepresentativeFactory(region=region).user,
    }


def _leave(councillor):
    Councillor.objects.filter(pk=councillor.pk).update(left_on=datetime.date(2025, 5, 8))
    councillor.refresh_from_db()


def _profile_form(councillor, **changes):
    return profile_form_data(councillor, **changes)


def _region_pages(world):
    return {
        "region": reverse("regions:region", args=[world["region"].slug]),
        "council": reverse("regions:council", args=[world["council"].slug]),
        "group": reverse("regions:group", args=[world["group"].pk]),
        "councillors": reverse("council_councillors", args=[world["council"].slug]),
        "my region": reverse("my_region"),
    }


def test_a_former_councillor_loses_their_region_council_group_and_colleagues(client, world):
    councillor = world["councillor"]
    client.force_login(councillor.user)
    pages = _region_pages(world)
    assert {name: client.get(url).status_code for name, url in pages.items()} == dict.fromkeys(
        pages, 200
    )
    _leave(councillor)
    assert {name: client.get(url).status_code for name, url in pages.items()} == {
        "region": 404,
        "council": 404,
        "group": 404,
        "councillors": 404,
        "my region": 403,
    }


def test_a_former_councillor_is_told_why_their_region_page_is_closed(client, world):
    _leave(world["councillor"])
    client.force_login(world["councillor"].user)
    response = client.get(reverse("my_region"))
    assert response.status_code == 403
    assert LEFT in response.text


def test_a_former_councillors_pages_do_not_link_to_what_they_lost(client, world):
    councillor = world["councillor"]
    _leave(councillor)
    client.force_login(councillor.user)
    home = client.get(reverse("home")).text
    assert "you left on 8 May 2025" in home
    for url in _region_pages(world).values():
        assert f'href="{url}"' not in home
    assert f'href="{reverse("my_region")}"' not in client.get(reverse("profile")).text


def test_a_former_councillor_still_reads_their_own_pages_and_data(client, world):
    councillor = world["councillor"]
    _leave(councillor)
    client.force_login(councillor.user)
    for name in ("profile", "profile_edit", "my_data", "equality"):
        assert client.get(reverse(name)).status_code == 200, name
    export = client.get(reverse("my_data_json"))
    assert export.status_code == 200
    assert councillor.user.email in export.content.decode()


def test_a_former_councillor_may_correct_their_contact_details_and_preferences(client, world):
    councillor = world["councillor"]
    _leave(councillor)
    client.force_login(councillor.user)
    data = _profile_form(councillor, full_name="Robin Renamed", phone="020 7946 0123")
    data.pop("wants_campaign_mailings")
    response = client.post(reverse("profile_edit"), data)
    assert response.status_code == 302
    councillor.refresh_from_db()
    assert councillor.user.full_name == "Robin Renamed"
    assert councillor.phone == "020 7946 0123"
    assert councillor.wants_campaign_mailings is False
    assert not ProfileChange.objects.exists()


def test_a_former_councillor_may_ask_for_their_data_to_be_erased(client, world):
    _leave(world["councillor"])
    client.force_login(world["councillor"].user)
    response = client.post(reverse("erasure_request"), {"confirm": "on"})
    assert response.status_code == 302
    assert ErasureRequest.objects.filter(user=world["councillor"].user).exists()


@pytest.mark.parametrize(
    "change",
    [{"ward": "Riverside"}, {"council": "other"}],
    ids=["ward", "council"],
)
def test_a_former_councillors_council_and_ward_stay_as_they_were(client, world, change):
    """Their form shows council and ward as fixed; a move sent anyway is not taken."""
    councillor = world["councillor"]
    _leave(councillor)
    if change.get("council") == "other":
        change = {"council": world["other_council"].pk}
    client.force_login(councillor.user)
    form = client.get(reverse("profile_edit")).context["form"]
    assert form.fields["council"].disabled and form.fields["ward"].disabled
    data = _profile_form(councillor, full_name="Robin Renamed", **change)
    response = client.post(reverse("profile_edit"), data)
    assert response.status_code == 302
    councillor.refresh_from_db()
    assert councillor.user.full_name == "Robin Renamed"
    assert (councillor.council, councillor.ward) == (world["council"], "Castle")
    assert not ProfileChange.objects.exists()


def test_the_profile_service_refuses_a_move_for_a_former_councillor(world):
    councillor = world["councillor"]
    _leave(councillor)
    changes = {
        "full_name": "Robin Renamed",
        "preferred_name": "",
        "council": world["other_council"],
        "ward": "Castle",
        "first_elected": None,
        "term_ends": None,
        "labour_coop": False,
        "phone": "",
        "bio": "",
        "wants_campaign_mailings": True,
        "wants_regional_news": True,
        "wants_training_events": True,
    }
    with pytest.raises(PermissionDenied):
        services.profiles.profile_update(councillor=councillor, changes=changes, positions=[])
    assert not ProfileChange.objects.exists()


def test_a_former_councillor_reads_their_waivers_but_cannot_apply(client, world):
    councillor = world["councillor"]
    LevyWaiverFactory(councillor=councillor, year=2024, status=Decision.APPROVED)
    _leave(councillor)
    client.force_login(councillor.user)
    page = client.get(reverse("levy_waiver"))
    assert page.status_code == 200
    assert LEFT in page.text
    assert "2024" in page.text
    assert 'name="circumstances"' not in page.text  # no form they could not send
    data = {"year": "2026", "circumstances": "Low income", "declaration": "on"}
    response = client.post(reverse("levy_waiver"), data)
    assert response.status_code == 403
    assert LEFT in response.text
    assert list(LevyWaiver.objects.values_list("year", flat=True)) == [2024]


def test_the_waiver_service_refuses_a_former_councillor(world):
    _leave(world["councillor"])
    with pytest.raises(PermissionDenied):
        services.waivers.levy_waiver_apply(
            councillor=world["councillor"], year=2026, circumstances="Low income"
        )
    assert not LevyWaiver.objects.exists()


def test_a_serving_councillor_still_applies_for_a_waiver(client, world):
    client.force_login(world["councillor"].user)
    data = {"year": "2026", "circumstances": "Low income", "declaration": "on"}
    assert client.post(reverse("levy_waiver"), data).status_code == 302
    assert LevyWaiver.objects.get().status == Decision.PENDING


def test_marking_a_councillor_left_closes_their_pending_requests(client, world):
    councillor = world["councillor"]
    change = ProfileChangeFactory(councillor=councillor, ward="Riverside")
    pending_waiver = LevyWaiverFactory(councillor=councillor, year=2026)
    approved_waiver = LevyWaiverFactory(councillor=councillor, year=2025)
    approved_waiver.decision_record(by=None, approve=True)
    approved_waiver.save()
    rep = world["rep"]
    client.force_login(rep)
    url = reverse("councillor_leave", args=[world["council"].slug, councillor.pk])
    response = client.post(url, {"left_on": timezone.localdate().isoformat(), "confirm": "on"})
    assert response.status_code == 302
    for request in (change, pending_waiver):
        request.refresh_from_db()
        assert request.status == Decision.REFUSED
        assert request.reason == "Closed: no longer a councillor"
        assert request.decided_by == rep and request.decided_at is not None
        latest = request.history.first()
        assert latest.status == Decision.REFUSED
        assert latest.history_change_reason == "Closed: no longer a councillor"
        assert latest.history_user == rep
        assert request.history.count() == 2
    approved_waiver.refresh_from_db()
    assert approved_waiver.status == Decision.APPROVED
    assert not ProfileChange.objects.filter(status=Decision.PENDING).exists()


def test_a_closed_change_cannot_then_be_approved(client, world):
    councillor = world["councillor"]
    change = ProfileChangeFactory(councillor=councillor, council=world["other_council"])
    services.councillors.councillor_mark_left(councillor=councillor, by=world["rep"])
    client.force_login(world["rep"])
    url = reverse("decisions_change", args=[change.pk])
    client.post(url, {"decision": "approved", "reason": ""})
    councillor.refresh_from_db()
    assert councillor.council == world["council"]


def test_a_change_left_pending_for_a_former_councillor_is_not_applied(world):
    councillor = world["councillor"]
    change = ProfileChangeFactory(councillor=councillor, council=world["other_council"])
    _leave(councillor)  # recorded without the service, so the change is still pending
    with pytest.raises(ValidationError, match=LEFT):
        services.profile_changes.profile_change_decide(change=change, by=world["rep"], approve=True)
    councillor.refresh_from_db()
    change.refresh_from_db()
    assert councillor.council == world["council"]
    assert change.status == Decision.PENDING


def test_staff_can_still_refuse_a_change_left_pending_for_a_former_councillor(world):
    councillor = world["councillor"]
    change = ProfileChangeFactory(councillor=councillor, ward="Riverside")
    _leave(councillor)
    staff = StaffFactory()
    services.profile_changes.profile_change_decide(
        change=change, by=staff, approve=False, reason="Has left"
    )
    change.refresh_from_db()
    assert change.status == Decision.REFUSED


def test_an_appointment_from_a_future_date_is_listed_and_can_be_withdrawn(client, world):
    start = timezone.localdate() + datetime.timedelta(days=30)
    appointment = RepresentativeFactory(
        region=world["region"], user__full_name="Sam Soon", start_date=start
    )
    assert not appointment.user.is_representative
    client.force_login(StaffFactory())
    page = client.get(reverse("representatives"))
    assert "Sam Soon" in page.text
    response = client.post(reverse("representative_remove", args=[appointment.pk]))
    assert response.status_code == 302
    appointment.refresh_from_db()
    # It ends the day it would have begun, so it never gives access.
    assert appointment.end_date == start
    client.force_login(appointment.user)
    assert client.get(reverse("regions:region", args=[world["region"].slug])).status_code == 404


def test_an_invitation_not_yet_sent_is_withdrawn_when_the_person_leaves(world, mailoutbox):
    """Someone marked as left could no longer accept an invitation: one still waiting in the
    outbox does not go."""
    for name in ("staying", "leaving"):
        councillor = CouncillorFactory(council=world["council"], user__email=f"{name}@example.org")
        User.objects.filter(pk=councillor.user_id).update(password="!never-set", last_login=None)
        invitations.invitation_record_and_queue(
            councillor=councillor, user=User.objects.get(pk=councillor.user_id), by=None, reason=""
        )
    leaving = Councillor.objects.get(user__email="leaving@example.org")
    services.councillors.councillor_mark_left(councillor=leaving, by=world["rep"])
    assert notices_send_due() == 1
    assert [m.to for m in mailoutbox] == [["staying@example.org"]]
