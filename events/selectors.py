"""Reads the events pages share. Each makes the same few queries however many sessions,
bookings and places lie behind it."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from itertools import groupby

from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q
from django.utils import timezone

from .access import events_visible_to, serving_councillor_of
from .models import Booking, Event, PassApplication, Place, Session

HOLDING = Q(places__status__in=Place.HOLDING)
WAITING = Q(places__status=Place.Status.WAITING)
OPEN_EVENTS_SHOWN = 10


def events_listed_for(user):
    """The upcoming events a person sees, soonest first, with their region."""
    return events_visible_to(user).upcoming().select_related("region").order_by("starts_at", "pk")


def sessions_with_counts(event: Event):
    """The event's sessions in programme order, each with `taken` (booked or offered),
    `waiting`, `attended` and `left` (places free)."""
    sessions = (
        Session.objects.filter(event=event)
        .select_related("slot")
        .annotate(
            taken=Count("places", filter=HOLDING),
            waiting=Count("places", filter=WAITING),
            attended=Count(
                "places",
                filter=Q(places__status=Place.Status.BOOKED, places__booking__attended=True),
            ),
        )
        .order_by("slot__starts_at", "slot__ends_at", "track", "title", "pk")
    )
    sessions = list(sessions)
    for session in sessions:
        session.left = max(0, session.capacity - session.taken)
    return sessions


@dataclasses.dataclass
class SlotRow:
    slot: object
    sessions: list


def programme(event: Event) -> list[SlotRow]:
    """The sessions grouped by time slot."""
    return [
        SlotRow(slot=slot, sessions=list(sessions))
        for slot, sessions in groupby(sessions_with_counts(event), key=lambda s: s.slot)
    ]


def event_counts(event: Event) -> dict:
    """Places taken and waiting for an event without sessions, and those left."""
    counts = Place.objects.filter(event=event, session__isnull=True).aggregate(
        taken=Count("pk", filter=Q(status__in=Place.HOLDING)),
        waiting=Count("pk", filter=Q(status=Place.Status.WAITING)),
    )
    capacity = event.capacity
    counts["left"] = None if capacity is None else max(0, capacity - counts["taken"])
    return counts


def booking_of(user, event: Event) -> Booking | None:
    """The person's booking on the event, with its live places, or None."""
    if not user.is_authenticated:
        return None
    live = Place.objects.active().select_related("session__slot").order_by("slot__starts_at", "pk")
    return (
        Booking.objects.filter(event=event, user=user)
        .prefetch_related(Prefetch("places", queryset=live, to_attr="live_places"))
        .first()
    )


def pass_application_of(user, event: Event) -> PassApplication | None:
    if not user.is_authenticated or not event.is_annual_conference:
        return None
    return PassApplication.objects.filter(event=event, user=user).first()


FEED_PAST_DAYS = 365


def feed_bookings(user):
    """A person's bookings with booked places, for their calendar feed: those to come and
    those of the past year, each with `booked_places`."""
    since = timezone.now() - timedelta(days=FEED_PAST_DAYS)
    booked = Place.objects.booked().filter(booking=OuterRef("pk"))
    places = Place.objects.booked().select_related("session__slot").order_by("slot__starts_at")
    return (
        Booking.objects.filter(user=user, event__ends_at__gt=since)
        .filter(Exists(booked))
        .select_related("event")
        .prefetch_related(Prefetch("places", queryset=places, to_attr="booked_places"))
        .order_by("event__starts_at", "pk")
    )


def attendance_rows(event: Event):
    """Everyone holding a booked place on the event, by name, with their council and the
    sessions they booked."""
    booked = Place.objects.booked().filter(booking=OuterRef("pk"))
    sessions = Place.objects.booked().select_related("session__slot").order_by("slot__starts_at")
    return (
        Booking.objects.filter(event=event)
        .filter(Exists(booked))
        .select_related("user__councillor__council")
        .prefetch_related(Prefetch("places", queryset=sessions, to_attr="booked_places"))
        .order_by("user__full_name", "user__email", "pk")
    )


def event_report(event: Event) -> dict:
    """Places taken, waiting and attended: in all, by region and by session."""
    places = Place.objects.filter(event=event)
    totals = places.aggregate(
        booked=Count("pk", filter=Q(status=Place.Status.BOOKED)),
        offered=Count("pk", filter=Q(status=Place.Status.OFFERED)),
        waiting=Count("pk", filter=Q(status=Place.Status.WAITING)),
    )
    bookings = Booking.objects.filter(event=event)
    totals |= bookings.aggregate(
        people=Count("pk", filter=Q(places__status=Place.Status.BOOKED), distinct=True),
        attended=Count("pk", filter=Q(attended=True)),
    )
    regions = (
        places.values(region=F("booking__user__councillor__council__region__name"))
        .annotate(
            booked=Count("pk", filter=Q(status=Place.Status.BOOKED)),
            waiting=Count("pk", filter=Q(status=Place.Status.WAITING)),
            people=Count("booking", filter=Q(status=Place.Status.BOOKED), distinct=True),
            attended=Count(
                "booking",
                filter=Q(status=Place.Status.BOOKED, booking__attended=True),
                distinct=True,
            ),
        )
        .order_by("region")
    )
    return {
        "totals": totals,
        "regions": [row for row in regions if row["booked"] or row["waiting"]],
        "sessions": sessions_with_counts(event),
    }


def booked_users_of(event_id: int):
    """The people holding a booked place on the event, as a subquery of user ids (for the
    mailings addressed by booking, campaigns.audience)."""
    return Place.objects.booked().filter(event_id=event_id).values("booking__user_id")


# What a person's own pages show (members' home and profile, through its signals).


def home_events(user) -> dict | None:
    """A councillor's upcoming places and offers, their pass applications, and the events
    open to them now; None for anyone who is not a councillor."""
    councillor = user.councillor_or_none
    if councillor is None:
        return None
    now = timezone.now()
    places = (
        Place.objects.active()
        .filter(booking__user=user, event__ends_at__gt=now)
        .select_related("event", "session__slot")
        .order_by("event__starts_at", "event_id", "slot__starts_at", "pk")
    )
    by_event = [
        (event, list(event_places))
        for event, event_places in groupby(places, key=lambda p: p.event)
    ]
    applications = (
        PassApplication.objects.filter(user=user, event__ends_at__gt=now)
        .select_related("event")
        .order_by("event__starts_at")
    )
    open_events = []
    if serving_councillor_of(user) is not None:
        open_events = list(
            Event.objects.open_for_booking(now)
            .for_regions([councillor.council.region_id])
            .select_related("region")
            .order_by("starts_at", "pk")[:OPEN_EVENTS_SHOWN]
        )
    return {
        "bookings": by_event,
        "offers": [p for _event, ps in by_event for p in ps if p.is_offered],
        "applications": list(applications),
        "open_events": open_events,
    }


def training_completed(user):
    """The training a person attended, latest first ("Mental Health First Aid, 12 March
    2027")."""
    return (
        Booking.objects.filter(user=user, attended=True)
        .exclude(event__kind=Event.Kind.CONFERENCE)
        .select_related("event")
        .order_by("-event__starts_at", "pk")
    )
