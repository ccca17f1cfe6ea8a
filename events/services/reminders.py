"""Reminders: everyone booked on an event is reminded seven days before it, and again the day
before, each once, with the calendar of their booking attached.

Beat runs `reminders_queue` every five minutes (events.tasks.events_round). A reminder `days`
before is due from REMINDER_HOUR (8 a.m., Europe/London) on the day that many days before the
event's first day, until that day ends: a round missed for a whole day is not made up, since
"next week" would then be wrong.
Only places booked before that moment are reminded (someone who books later has just had their
confirmation). The outbox keys each reminder by its kind, the booking and the event's date, so
however many rounds run it goes once (and once more only if the event moves to another day).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db.models import Exists, OuterRef, Prefetch
from django.utils import timezone

from members.models import Notice
from members.selectors import portal_link
from members.services.notices import notice_queue

from ..calendar import booking_items, ics_calendar
from ..models import Booking, Place

REMINDER_DAYS = (7, 1)
# The hour of the day (Europe/London) from which the day's reminders go.
REMINDER_HOUR = 8


def reminder_kind(days: int) -> str:
    return f"event_reminder_{days}"


def _occasion(booking: Booking) -> str:
    return f"{booking.pk}:{timezone.localdate(booking.event.starts_at).isoformat()}"


def _day_bounds(day):
    zone = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(day, time.min), zone)
    end = timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min), zone)
    return start, end


def bookings_to_remind(*, days: int, now=None):
    """The bookings to remind `days` before their event at `now`: none before the due hour."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    zone = timezone.get_current_timezone()
    due = timezone.make_aware(datetime.combine(today, time(REMINDER_HOUR)), zone)
    if now < due:
        return Booking.objects.none()
    starts, ends = _day_bounds(today + timedelta(days=days))
    booked_in_time = Place.objects.booked().filter(booking=OuterRef("pk"), booked_at__lte=due)
    return (
        Booking.objects.filter(event__starts_at__gte=starts, event__starts_at__lt=ends)
        .filter(Exists(booked_in_time), user__is_active=True)
        .select_related("event", "user")
        .prefetch_related(
            Prefetch(
                "places",
                queryset=Place.objects.booked().select_related("session__slot"),
                to_attr="booked_places",
            )
        )
        .order_by("pk")
    )


def reminders_queue(*, now=None) -> int:
    """Queue the reminders due now. Returns how many were queued."""
    queued = 0
    for days in REMINDER_DAYS:
        kind = reminder_kind(days)
        bookings = list(bookings_to_remind(days=days, now=now))
        already = set(
            Notice.objects.filter(
                kind=kind, occasion__in=[_occasion(b) for b in bookings]
            ).values_list("occasion", flat=True)
        )
        for booking in bookings:
            if _occasion(booking) not in already:
                queued += reminder_queue(booking=booking, days=days)
    return queued


def reminder_queue(*, booking: Booking, days: int) -> bool:
    places = sorted(
        booking.booked_places,
        key=lambda p: p.session.slot.starts_at if p.session_id else booking.event.starts_at,
    )
    calendar = ics_calendar(booking_items(booking, places), name=booking.event.title)
    return notice_queue(
        kind=reminder_kind(days),
        occasion=_occasion(booking),
        to=booking.user,
        template="events/email/reminder",
        context={
            "event": booking.event,
            "days": days,
            "booked": places,
            "link": portal_link("events:detail", booking.event_id),
        },
        attachments=[{"filename": "booking.ics", "mimetype": "text/calendar", "content": calendar}],
    )
