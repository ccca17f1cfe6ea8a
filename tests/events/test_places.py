"""Booking places, waiting lists and offers, through the services: capacity, one session per
time slot, and a freed place offered to the first in line, passing on when not taken."""

import datetime

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from factories import EventFactory, SessionFactory, TimeSlotFactory, programme_create

from events.models import Booking, Place
from events.services import bookings, places
from members.models import Notice

pytestmark = pytest.mark.django_db


def _statuses(event):
    return sorted(
        (p.booking.user.full_name, p.status)
        for p in Place.objects.filter(event=event).select_related("booking__user")
    )


def test_it_books_a_place_and_waitlists_when_full(councillor_x, councillors_x):
    event = EventFactory(capacity=2)
    first, second, third = [c.user for c in councillors_x[:3]]
    for user in (first, second, third):
        bookings.booking_choose(event=event, user=user)
    assert Place.objects.get(booking__user=first).is_booked
    assert Place.objects.get(booking__user=second).is_booked
    assert Place.objects.get(booking__user=third).is_waiting
    # Each of them was told where they stand.
    assert Notice.objects.filter(kind="event_booking").count() == 3


def test_booking_twice_keeps_one_place(councillor_x):
    event = EventFactory(capacity=2)
    bookings.booking_choose(event=event, user=councillor_x.user, access_needs="Step-free")
    bookings.booking_choose(event=event, user=councillor_x.user, access_needs="Step-free access")
    assert Place.objects.filter(event=event).count() == 1
    assert Booking.objects.get().access_needs == "Step-free access"


def test_a_cancellation_offers_the_place_to_the_first_waiting(councillors_x):
    event = EventFactory(capacity=1)
    holder, first, second = [c.user for c in councillors_x[:3]]
    for user in (holder, first, second):
        bookings.booking_choose(event=event, user=user)
    bookings.booking_cancel(booking=Booking.objects.get(user=holder), user=holder)
    offered = Place.objects.get(booking__user=first)
    assert offered.is_offered
    assert Place.objects.get(booking__user=second).is_waiting
    offer_notices = Notice.objects.filter(kind="event_place_offered")
    assert list(offer_notices.values_list("to_email", flat=True)) == [first.email]
    assert bookings.place_answer_offer(place=offered, user=first, accept=True)
    assert Place.objects.get(pk=offered.pk).is_booked


def test_an_offer_not_taken_in_time_passes_to_the_next(settings, councillors_x):
    settings.EVENT_OFFER_HOURS = 24
    event = EventFactory(capacity=1)
    holder, first, second = [c.user for c in councillors_x[:3]]
    for user in (holder, first, second):
        bookings.booking_choose(event=event, user=user)
    bookings.booking_cancel(booking=Booking.objects.get(user=holder), user=holder)
    assert places.offers_expire() == 0  # still within its time
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=25)):
        assert places.offers_expire() == 1
        assert places.offers_expire() == 0  # run twice, nothing more happens
        lapsed = Place.objects.get(booking__user=first)
        assert lapsed.status == Place.Status.LAPSED
        passed_on = Place.objects.get(booking__user=second)
        assert passed_on.is_offered
        # Too late for the first: accepting now changes nothing.
        assert not bookings.place_answer_offer(place=lapsed, user=first, accept=True)
        assert bookings.place_answer_offer(place=passed_on, user=second, accept=True)
    recipients = Notice.objects.filter(kind="event_place_offered").values_list(
        "to_email", flat=True
    )
    assert sorted(recipients) == sorted([first.email, second.email])


def test_an_offer_accepted_after_its_time_but_before_beat_lapses(settings, councillors_x):
    settings.EVENT_OFFER_HOURS = 1
    event = EventFactory(capacity=1)
    holder, first, second = [c.user for c in councillors_x[:3]]
    for user in (holder, first, second):
        bookings.booking_choose(event=event, user=user)
    bookings.booking_cancel(booking=Booking.objects.get(user=holder), user=holder)
    offer = Place.objects.get(booking__user=first)
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=2)):
        assert not bookings.place_answer_offer(place=offer, user=first, accept=True)
    assert Place.objects.get(pk=offer.pk).status == Place.Status.LAPSED
    assert Place.objects.get(booking__user=second).is_offered


def test_a_declined_offer_goes_to_the_next(councillors_x):
    event = EventFactory(capacity=1)
    holder, first, second = [c.user for c in councillors_x[:3]]
    for user in (holder, first, second):
        bookings.booking_choose(event=event, user=user)
    bookings.booking_cancel(booking=Booking.objects.get(user=holder), user=holder)
    offer = Place.objects.get(booking__user=first)
    assert bookings.place_answer_offer(place=offer, user=first, accept=False)
    assert Place.objects.get(pk=offer.pk).status == Place.Status.CANCELLED
    assert Place.objects.get(booking__user=second).is_offered


def test_offers_end_when_the_session_begins(settings, councillors_x):
    settings.EVENT_OFFER_HOURS = 48
    event = EventFactory(starts_at=timezone.now() + datetime.timedelta(hours=5), capacity=None)
    slot = TimeSlotFactory(event=event)
    session = SessionFactory(slot=slot, event=event, capacity=1)
    holder, first = [c.user for c in councillors_x[:2]]
    for user in (holder, first):
        bookings.booking_choose(event=event, user=user, session_ids=[session.pk])
    bookings.booking_cancel(booking=Booking.objects.get(user=holder), user=holder)
    assert Place.objects.get(booking__user=first).offer_expires_at == slot.starts_at


def test_two_sessions_in_one_slot_cannot_both_be_booked(councillor_x):
    event = EventFactory(capacity=None)
    first, second = programme_create(event, slots=1, tracks=["A", "B"])
    with pytest.raises(ValidationError, match="at most one session in each time slot"):
        bookings.booking_choose(
            event=event, user=councillor_x.user, session_ids=[first.pk, second.pk]
        )
    assert not Place.objects.exists()
    # Nor in the database itself, whatever writes the rows.
    bookings.booking_choose(event=event, user=councillor_x.user, session_ids=[first.pk])
    booking = Booking.objects.get()
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Place.objects.create(
            booking=booking, event=event, session=second, slot=second.slot, status="booked"
        )


def test_choosing_another_session_in_a_slot_gives_up_the_first(councillor_x, councillors_x):
    event = EventFactory(capacity=None)
    first, second = programme_create(event, slots=1, tracks=["A", "B"], capacity=1)
    waiting = councillors_x[0].user
    bookings.booking_choose(event=event, user=councillor_x.user, session_ids=[first.pk])
    bookings.booking_choose(event=event, user=waiting, session_ids=[first.pk])
    change = bookings.booking_choose(event=event, user=councillor_x.user, session_ids=[second.pk])
    assert [p.session for p in change.booked] == [second]
    assert [p.session for p in change.released] == [first]
    # The place given up went to the person waiting for it.
    assert Place.objects.get(booking__user=waiting).is_offered


def test_a_session_of_another_event_cannot_be_chosen(councillor_x):
    event = EventFactory(capacity=None)
    other = programme_create(EventFactory(capacity=None), slots=1, tracks=["A"])[0]
    programme_create(event, slots=1, tracks=["A"])
    with pytest.raises(ValidationError):
        bookings.booking_choose(event=event, user=councillor_x.user, session_ids=[other.pk])


def test_former_councillors_cannot_book(councillor_x):
    councillor_x.left_on = datetime.date(2026, 5, 8)
    councillor_x.save()
    with pytest.raises(PermissionDenied, match="no longer a councillor"):
        bookings.booking_choose(event=EventFactory(), user=councillor_x.user)
    assert not Booking.objects.exists()


def test_councillors_book_their_own_regions_events_only(councillor_x, councillor_y, region_x):
    event = EventFactory(region=region_x)
    with pytest.raises(PermissionDenied, match="councillors in Region X"):
        bookings.booking_choose(event=event, user=councillor_y.user)
    bookings.booking_choose(event=event, user=councillor_x.user)


def test_booking_is_refused_outside_its_window(councillor_x):
    event = EventFactory()
    before = event.booking_opens_at - datetime.timedelta(minutes=1)
    with time_machine.travel(before), pytest.raises(PermissionDenied, match="Booking opens"):
        bookings.booking_choose(event=event, user=councillor_x.user)
    with time_machine.travel(event.booking_closes_at), pytest.raises(PermissionDenied):
        bookings.booking_choose(event=event, user=councillor_x.user)


def test_changes_to_bookings_keep_their_history(councillors_x):
    event = EventFactory(capacity=1)
    holder, waiting = councillors_x[0].user, councillors_x[1].user
    for user in (holder, waiting):
        bookings.booking_choose(event=event, user=user)
    bookings.booking_cancel(booking=Booking.objects.get(user=holder), user=holder)
    offered = Place.objects.get(booking__user=waiting)
    bookings.place_answer_offer(place=offered, user=waiting, accept=True)
    steps = list(
        Place.history.filter(id=offered.pk)
        .order_by("history_date")
        .values_list("status", flat=True)
    )
    assert steps == ["waiting", "offered", "booked"]
    held = Place.history.filter(booking__user=holder).order_by("history_date")
    assert list(held.values_list("status", flat=True)) == ["booked", "cancelled"]
