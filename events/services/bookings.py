"""Writes for bookings: a serving councillor books an event (choosing at most one session in
each time slot, when it has sessions), changes their choice, gives places up, accepts or
declines an offer; organisers mark who attended. Places are taken and freed by
events.services.places, under its locks; every change is told by an outbox notice with the
booking's calendar attached."""

from __future__ import annotations

import dataclasses

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from members.selectors import portal_link
from members.services.notices import notice_queue, occasion_stamp

from ..access import may_change_booking, may_run_event, require_booker
from ..calendar import booking_items, ics_calendar
from ..models import Booking, Event, Place
from . import places

ONE_PER_SLOT = "Choose at most one session in each time slot."


@dataclasses.dataclass
class BookingChange:
    """What a booking request did: the places taken, joined the waiting list for, given up."""

    booked: list[Place] = dataclasses.field(default_factory=list)
    waiting: list[Place] = dataclasses.field(default_factory=list)
    released: list[Place] = dataclasses.field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.booked or self.waiting or self.released)


def _booking_lock(*, event: Event, user) -> Booking:
    booking, _created = Booking.objects.get_or_create(event=event, user=user)
    # Only the booking's row: the event's stays free for others booking on it.
    return (
        Booking.objects.select_for_update(of=("self",))
        .select_related("event", "user")
        .get(pk=booking.pk)
    )


def _chosen_sessions(event: Event, session_ids) -> dict:
    sessions = {s.pk: s for s in event.sessions.filter(pk__in=session_ids)}
    if len(sessions) != len(set(session_ids)):
        raise ValidationError("Choose among this event's sessions.")
    slots = [s.slot_id for s in sessions.values()]
    if len(slots) != len(set(slots)):
        raise ValidationError(ONE_PER_SLOT)
    return sessions


@transaction.atomic
def booking_choose(
    *,
    event: Event,
    user,
    session_ids=(),
    access_needs: str = "",
    dietary_requirements: str = "",
) -> BookingChange:
    """Book this event for `user`, or change their booking: for an event with sessions, the
    sessions in `session_ids` (at most one per slot) are what they now want, and any other
    place they hold or wait for is given up; for one without, a place on the event. Each new
    place is booked when there is room, waiting otherwise. Only a serving councillor may book,
    while booking is open (PermissionDenied with the reason)."""
    require_booker(user, event)
    booking = _booking_lock(event=event, user=user)
    needs = (access_needs.strip(), dietary_requirements.strip())
    if needs != (booking.access_needs, booking.dietary_requirements):
        booking.access_needs, booking.dietary_requirements = needs
        booking.save()
    live = list(booking.places.active())
    change = BookingChange()
    if event.has_sessions:
        wanted = _chosen_sessions(event, session_ids)
        held = {p.session_id: p for p in live}
        released = [p for p in live if p.session_id not in wanted]
        asked = [pk for pk in wanted if pk not in held]
        locked = places.target_lock(
            event=event, session_ids=sorted({*asked, *(p.session_id for p in released)})
        )
        for place in released:
            places.place_end(place)
        for pk in sorted(asked, key=lambda pk: locked[pk].slot.starts_at):
            place = places.place_request(booking=booking, session=locked[pk])
            (change.booked if place.is_booked else change.waiting).append(place)
        for place in released:
            places.places_offer_free(event=event, session=locked.get(place.session_id))
        change.released = released
    elif not live:
        places.target_lock(event=event)
        place = places.place_request(booking=booking, session=None)
        (change.booked if place.is_booked else change.waiting).append(place)
    if change.changed:
        booking_notice_queue(booking=booking)
    return change


@transaction.atomic
def booking_cancel(*, booking: Booking, user) -> int:
    """Give up every place of a booking (and its places in the queue); each freed place is
    offered to the next in line. Returns how many places were given up."""
    if not may_change_booking(user, booking):
        raise PermissionDenied("This event has begun: its booking can no longer be changed.")
    booking = _booking_lock(event=booking.event, user=user)
    live = list(booking.places.active())
    if not live:
        return 0
    event = booking.event
    locked = places.target_lock(
        event=event, session_ids=sorted({p.session_id for p in live if p.session_id})
    )
    for place in live:
        places.place_end(place)
    for place in live:
        places.places_offer_free(event=event, session=locked.get(place.session_id))
    booking_notice_queue(booking=booking)
    return len(live)


@transaction.atomic
def place_answer_offer(*, place: Place, user, accept: bool) -> bool:
    """Accept (or decline) the place offered to `user`. Returns False if the offer had
    lapsed or been settled meanwhile: a lapsed place goes to the next in line, as it would
    have."""
    if place.booking.user_id != user.pk or not may_change_booking(user, place.booking):
        raise PermissionDenied("This event has begun: its places can no longer be changed.")
    booking = _booking_lock(event=place.booking.event, user=user)
    session_ids = [place.session_id] if place.session_id else ()
    places.target_lock(event=booking.event, session_ids=session_ids)
    place = Place.objects.select_related("event", "session__slot").get(pk=place.pk)
    if not place.is_offered:
        return False
    settled = places.place_settle_offer(place, accept=accept)
    if settled:
        booking_notice_queue(booking=booking)
    return settled


def booking_notice_queue(*, booking: Booking) -> bool:
    """Tell the person where their booking stands now, with the calendar of what they hold
    attached. One notice per change (the occasion is the moment of it)."""
    if not booking.user.is_active:
        return False
    live = list(
        booking.places.active().select_related("session__slot").order_by("slot__starts_at", "pk")
    )
    attachments = []
    items = booking_items(booking, live)
    if items:
        calendar = ics_calendar(items, name=booking.event.title)
        attachments.append(
            {"filename": "booking.ics", "mimetype": "text/calendar", "content": calendar}
        )
    return notice_queue(
        kind="event_booking",
        occasion=f"{booking.pk}:{occasion_stamp(timezone.now())}",
        to=booking.user,
        template="events/email/booking",
        context={
            "event": booking.event,
            "booked": [p for p in live if p.is_booked],
            "waiting": [p for p in live if p.is_waiting],
            "offered": [p for p in live if p.is_offered],
            "link": portal_link("events:detail", booking.event_id),
        },
        attachments=attachments,
    )


@transaction.atomic
def attendance_mark(*, booking: Booking, by, attended: bool | None) -> Booking:
    """Record whether the person came (None: not known). For those who run the event."""
    if not may_run_event(by, booking.event):
        raise PermissionDenied
    booking = Booking.objects.select_for_update().get(pk=booking.pk)
    booking.attended = attended
    booking.attendance_marked_at = timezone.now()
    booking.attendance_marked_by = by
    booking._history_user = by
    booking.save(update_fields=["attended", "attendance_marked_at", "attendance_marked_by"])
    return booking
