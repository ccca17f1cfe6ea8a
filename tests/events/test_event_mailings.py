"""Mailings to people by their booking on an event: "councillors booked on event X", and
"serving councillors in regions R not booked on X"."""

import datetime

import pytest
from django.urls import reverse
from factories import CouncilGroupFactory, CouncillorFactory, EventFactory, SuppressionFactory

from campaigns.audience import audience_resolve, audience_resolve_rule
from campaigns.models import Delivery, EventAudience, Mailing
from campaigns.rendering import render_message
from campaigns.services.lifecycle import mailing_start
from events.models import Booking
from events.services import bookings

pytestmark = pytest.mark.django_db


@pytest.fixture
def booked_world(council_x, council_y, councillor_x, councillor_y, councillors_x):
    """A national event of three places: councillors X and Y booked, one who gave their place
    up, and one person of region X who was waiting and is offered it."""
    event = EventFactory(capacity=3, title="Campaign day")
    CouncilGroupFactory(council=council_x, name="Oakfield Labour Group")
    waiting, gave_up = councillors_x[0].user, councillors_x[1].user
    for user in (councillor_x.user, gave_up, councillor_y.user, waiting):
        bookings.booking_choose(event=event, user=user)
    bookings.booking_cancel(booking=Booking.objects.get(user=gave_up), user=gave_up)
    return event


def _emails(audience):
    return sorted(r.email for r in audience.recipients)


def test_councillors_booked_on_an_event(booked_world, councillor_x, councillor_y, region_x):
    audience = audience_resolve_rule(event_id=booked_world.pk, event_audience="booked")
    # The place given up went to the person waiting, who is offered it, not booked.
    assert _emails(audience) == sorted([councillor_x.user.email, councillor_y.user.email])
    assert audience.people == "Councillors booked on the event"
    assert audience.group_count == 0 and audience.groups_without_address == []
    only_x = audience_resolve_rule(
        event_id=booked_world.pk, event_audience="booked", region_ids=[region_x.pk]
    )
    (recipient,) = only_x.recipients
    assert recipient.context["recipient"]["full_name"] == "Ada Oakley"
    assert recipient.context["group"] == {"name": "Oakfield Labour Group"}
    assert recipient.context["region"] == {"name": "Region X"}
    assert recipient.context["reason"] == "event_booked"


def test_serving_councillors_of_a_region_not_booked_on_an_event(
    booked_world, council_x, councillor_x, councillors_x, region_x
):
    CouncillorFactory(council=council_x, left_on=datetime.date(2025, 5, 8))
    CouncillorFactory(council=council_x, wants_training_events=False)
    SuppressionFactory(email=councillors_x[4].user.email)
    audience = audience_resolve_rule(
        event_id=booked_world.pk, event_audience="not_booked", region_ids=[region_x.pk]
    )
    # Not the booked, the former, those who want no news of events, nor the suppressed; the
    # person waiting and the one who gave their place up are not booked.
    expected = [c.user.email for c in councillors_x[:4]]
    assert _emails(audience) == sorted(expected)
    assert audience.suppressed == [councillors_x[4].user.email]


def test_staff_compose_a_mailing_to_those_booked_and_send_it(client, staff, booked_world):
    client.force_login(staff)
    data = {
        "subject": "Your day with us",
        "from_name": "ALC",
        "body": "Dear {{ recipient.first_name }}, see you soon.",
        "event_audience": "booked",
        "event": booked_world.pk,
        "all_regions": "on",
    }
    count = client.get(reverse("campaigns:audience_count"), data).json()
    assert (count["count"], count["people"]) == (2, "Councillors booked on the event")
    response = client.post(reverse("campaigns:mailing_create"), data)
    mailing = Mailing.objects.get()
    assert response.url == mailing.get_absolute_url()
    assert (mailing.event, mailing.event_audience, mailing.recipients) == (
        booked_world,
        "booked",
        [],
    )
    page = client.get(mailing.get_absolute_url()).text
    assert "Councillors booked on the event" in page and "Campaign day" in page
    assert mailing_start(mailing_id=mailing.pk)
    deliveries = Delivery.objects.filter(mailing=mailing)
    assert deliveries.count() == 2 and not deliveries.filter(group__isnull=False).exists()
    rendered = render_message(
        subject=mailing.subject,
        body=mailing.body,
        context=audience_resolve(mailing).recipients[0].context,
    )
    assert "booked on one of the association's events" in rendered.text


def test_an_event_audience_needs_its_event_and_groups_need_a_kind_of_recipient(client, staff):
    client.force_login(staff)
    data = {"subject": "S", "from_name": "ALC", "body": "B", "event_audience": "booked"}
    response = client.post(reverse("campaigns:mailing_create"), data)
    assert "Choose the event." in response.text
    response = client.post(reverse("campaigns:mailing_create"), data | {"event_audience": ""})
    assert "Tick at least one kind of recipient." in response.text
    assert not Mailing.objects.exists()


def test_a_representative_targets_only_their_regions_events(client, rep_x, region_x, region_y):
    ours = EventFactory(region=region_x)
    national, theirs = EventFactory(), EventFactory(region=region_y)
    client.force_login(rep_x)
    data = {
        "subject": "S",
        "from_name": "ALC",
        "body": "B",
        "regions": [region_x.pk],
        "event_audience": EventAudience.NOT_BOOKED,
    }
    for event in (national, theirs):
        response = client.post(reverse("campaigns:mailing_create"), data | {"event": event.pk})
        assert "Select a valid choice" in response.text
    assert not Mailing.objects.exists()
    response = client.post(reverse("campaigns:mailing_create"), data | {"event": ours.pk})
    assert response.status_code == 302
    assert Mailing.objects.get().owner_region == region_x
