"""Places: taking one, waiting for one, and offering a freed one to the first in line.

Capacity is exact because every write to a place is made while holding the row lock of what it
is a place on: the session, or, for an event without sessions, the event (`SELECT ... FOR
UPDATE`, taken in order of id when there are several). So two people asking for the last place
at the same moment queue on that lock: the first counts the places taken, finds one free and
takes it; the second, once the first has committed, counts again, finds none and joins the
waiting list. A place offered to someone waiting counts as taken until it is accepted,
declined or lapses.

When a place is freed (given up, declined, or an offer lapses, or more places are made), the
first person waiting (by when they asked) is offered it by email, with EVENT_OFFER_HOURS to
accept (never past the start). Every five minutes beat runs `offers_expire`, which passes an
offer not taken in time to the next person. Each offer is one outbox notice keyed by the place,
so however often a job that makes offers is run, or killed and run again, each person is
written to once per offer.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from members.selectors import portal_link
from members.services.notices import notice_queue

from ..models import Event, Place, Session


def target_lock(*, event: Event, session_ids=()) -> dict:
    """Lock the rows places are counted against, in order of id: these sessions, or the event
    when it has no sessions. Returns the locked sessions by id (none for the event, whose
    places are the ones without a session)."""
    if not session_ids:
        # Its capacity as it stands once locked, not as it was read before.
        event.capacity = (
            Event.objects.select_for_update().values_list("capacity", flat=True).get(pk=event.pk)
        )
        return {}
    sessions = (
        Session.objects.select_for_update(of=("self",))
        .select_related("slot")
        .filter(pk__in=session_ids)
        .order_by("pk")
    )
    return {session.pk: session for session in sessions}


def _places_on(event: Event, session: Session | None):
    if session is None:
        return Place.objects.filter(event=event, session__isnull=True)
    return Place.objects.filter(session=session)


def free_places(*, event: Event, session: Session | None) -> int | None:
    """Places left (call holding the lock); None when there is no limit."""
    capacity = session.capacity if session is not None else event.capacity
    if capacity is None:
        return None
    return max(0, capacity - _places_on(event, session).holding().count())


def place_request(*, booking, session: Session | None, now=None) -> Place:
    """A new place for this booking on this session (or the event): booked if there is room,
    waiting otherwise. Call holding the lock on the session (or event)."""
    now = now or timezone.now()
    event = booking.event
    free = free_places(event=event, session=session)
    booked = free is None or free > 0
    place = Place(
        booking=booking,
        event=event,
        session=session,
        slot=session.slot if session is not None else None,
        status=Place.Status.BOOKED if booked else Place.Status.WAITING,
        requested_at=now,
        booked_at=now if booked else None,
    )
    place.save()
    return place


def place_end(place: Place, *, status=Place.Status.CANCELLED, now=None) -> None:
    """Give up a place (or an offer, or a place in the queue). Call holding its lock."""
    place.status = status
    place.ended_at = now or timezone.now()
    place.save(update_fields=["status", "ended_at"])


def _offer_ends(event: Event, session: Session | None, now):
    starts = session.slot.starts_at if session is not None else event.starts_at
    return min(now + timedelta(hours=settings.EVENT_OFFER_HOURS), starts)


def places_offer_free(*, event: Event, session: Session | None, now=None) -> list[Place]:
    """Offer every free place to those first in line. Call holding the lock on the session
    (or event). Nothing is offered once it has begun."""
    now = now or timezone.now()
    ends = _offer_ends(event, session, now)
    if ends <= now:
        return []
    free = free_places(event=event, session=session)
    if free is None:
        # No limit (raised since they joined): everyone waiting gets a place.
        free = _places_on(event, session).waiting().count()
    waiting = list(
        _places_on(event, session)
        .waiting()
        .select_related("booking__user", "booking__event")
        .order_by("requested_at", "pk")[:free]
    )
    for place in waiting:
        place.status = Place.Status.OFFERED
        place.offered_at, place.offer_expires_at = now, ends
        place.save(update_fields=["status", "offered_at", "offer_expires_at"])
        place.session = session
        offer_notice_queue(place=place)
    return waiting


def offer_notice_queue(*, place: Place) -> bool:
    """Tell the person a place is theirs if they accept it in time: once per offer."""
    booking = place.booking
    if not booking.user.is_active:
        return False
    return notice_queue(
        kind="event_place_offered",
        occasion=place.pk,
        to=booking.user,
        template="events/email/place_offered",
        context={
            "event": booking.event,
            "session": place.session,
            "expires_at": place.offer_expires_at,
            "link": portal_link("events:detail", booking.event_id),
        },
    )


def place_settle_offer(place: Place, *, accept: bool, now=None) -> bool:
    """Accept or decline an offer (call holding the lock). An offer past its time lapses
    instead, and False is returned. The freed place goes to the next in line."""
    now = now or timezone.now()
    if place.offer_expires_at <= now:
        place_end(place, status=Place.Status.LAPSED, now=now)
        places_offer_free(event=place.event, session=place.session, now=now)
        return False
    if accept:
        place.status, place.booked_at = Place.Status.BOOKED, now
        place.save(update_fields=["status", "booked_at"])
        return True
    place_end(place, now=now)
    places_offer_free(event=place.event, session=place.session, now=now)
    return True


def offers_due_to_lapse(now=None) -> list[int]:
    return list(
        Place.objects.offered()
        .filter(offer_expires_at__lte=now or timezone.now())
        .order_by("offer_expires_at", "pk")
        .values_list("pk", flat=True)
    )


def offer_expire(*, place_id: int, now=None) -> bool:
    """Lapse one offer not taken in time and offer the place to the next in line, in one
    transaction. Safe to run twice: an offer already settled is left alone."""
    now = now or timezone.now()
    with transaction.atomic():
        place = Place.objects.select_related("event", "session").get(pk=place_id)
        target_lock(event=place.event, session_ids=[place.session_id] if place.session_id else ())
        place = Place.objects.select_related("event", "session__slot").get(pk=place_id)
        if not place.is_offered or place.offer_expires_at > now:
            return False
        place_end(place, status=Place.Status.LAPSED, now=now)
        places_offer_free(event=place.event, session=place.session, now=now)
    return True


def offers_expire(*, now=None) -> int:
    """Beat's round: every offer past its time lapses and passes on. Each in its own
    transaction, so a job killed midway leaves every offer either passed on or not yet."""
    return sum(offer_expire(place_id=pk, now=now) for pk in offers_due_to_lapse(now))
