"""Bookings: a person's booking on an event (with what the organisers need to know, and whether
they came), the places it holds or waits for, and each person's private calendar feed."""

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from .events import Event, Session, TimeSlot


class Booking(models.Model):
    """One person's booking on one event. Its places (one for an event without sessions, one
    per chosen session otherwise) say what they hold or wait for."""

    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="bookings")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="event_bookings"
    )
    # Seen only by the event's organisers, and deleted EVENT_NEEDS_DAYS after the event
    # (events.services.retention). Kept out of the booking's history, so nowhere else.
    access_needs = models.TextField(blank=True, max_length=1000)
    dietary_requirements = models.TextField(blank=True, max_length=500)
    needs_cleared_at = models.DateTimeField(null=True, blank=True)
    # None until an organiser marks the attendance list.
    attended = models.BooleanField(null=True, blank=True)
    attendance_marked_at = models.DateTimeField(null=True, blank=True)
    attendance_marked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    history = HistoricalRecords(excluded_fields=["access_needs", "dietary_requirements"])

    class Meta:
        ordering = ["event__starts_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "user"], name="one_booking_per_person_per_event"
            )
        ]

    def __str__(self):
        return f"{self.user} on {self.event}"

    @property
    def has_needs(self) -> bool:
        return bool(self.access_needs or self.dietary_requirements)


class PlaceQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status__in=Place.ACTIVE)

    def holding(self):
        """Places that count against capacity: booked, and offered to someone waiting."""
        return self.filter(status__in=Place.HOLDING)

    def booked(self):
        return self.filter(status=Place.Status.BOOKED)

    def waiting(self):
        return self.filter(status=Place.Status.WAITING)

    def offered(self):
        return self.filter(status=Place.Status.OFFERED)


class Place(models.Model):
    """A place on a session (or, for an event without sessions, on the event) that a booking
    holds, waits for, or was offered.

    A place goes waiting -> offered -> booked, or straight to booked when there is room;
    cancelled when the person gives it up (or declines an offer), lapsed when an offer was not
    taken in time. Cancelled and lapsed places stay, as the record; asking again makes a new
    one. Every write to a place is made holding the lock on its session (or event) row, which
    is what makes capacity exact (events.services.places)."""

    class Status(models.TextChoices):
        BOOKED = "booked", "Booked"
        WAITING = "waiting", "On the waiting list"
        OFFERED = "offered", "Offered"
        CANCELLED = "cancelled", "Cancelled"
        LAPSED = "lapsed", "Offer not taken in time"

    ACTIVE = (Status.BOOKED, Status.WAITING, Status.OFFERED)
    HOLDING = (Status.BOOKED, Status.OFFERED)

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="places")
    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="places")
    # Both blank for an event without sessions. The slot is the session's, kept here so that
    # the database itself allows one live place per slot.
    session = models.ForeignKey(
        Session, null=True, blank=True, on_delete=models.PROTECT, related_name="places"
    )
    slot = models.ForeignKey(
        TimeSlot, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices)
    # The waiting list's order.
    requested_at = models.DateTimeField(default=timezone.now)
    booked_at = models.DateTimeField(null=True, blank=True)
    offered_at = models.DateTimeField(null=True, blank=True)
    offer_expires_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    objects = PlaceQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["requested_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["booking", "slot"],
                condition=models.Q(status__in=["booked", "waiting", "offered"]),
                name="one_live_place_per_slot",
            ),
            models.UniqueConstraint(
                fields=["booking"],
                condition=models.Q(
                    session__isnull=True, status__in=["booked", "waiting", "offered"]
                ),
                name="one_live_place_per_event",
            ),
            models.CheckConstraint(
                condition=models.Q(session__isnull=True, slot__isnull=True)
                | models.Q(session__isnull=False, slot__isnull=False),
                name="place_session_has_its_slot",
            ),
        ]
        indexes = [
            models.Index(fields=["session", "status"], name="place_session_status_idx"),
            models.Index(fields=["event", "status"], name="place_event_status_idx"),
            models.Index(
                fields=["offer_expires_at"],
                condition=models.Q(status="offered"),
                name="place_offer_expiry_idx",
            ),
        ]

    def __str__(self):
        what = self.session or self.event
        return f"{what}: {self.get_status_display()}"

    @property
    def is_booked(self) -> bool:
        return self.status == self.Status.BOOKED

    @property
    def is_waiting(self) -> bool:
        return self.status == self.Status.WAITING

    @property
    def is_offered(self) -> bool:
        return self.status == self.Status.OFFERED

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def offer_is_live(self) -> bool:
        return self.is_offered and self.offer_expires_at > timezone.now()


def new_feed_key() -> str:
    return secrets.token_urlsafe(24)


class CalendarFeed(models.Model):
    """A person's private calendar feed of their bookings. Its address carries this key,
    signed; a new key (or deleting the row) stops the old address working."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    key = models.CharField(max_length=64, default=new_feed_key)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"Calendar feed of {self.user}"
