"""Events and their programme: an event (a conference, a training day, a course, an online
session), the time slots of its programme, and the sessions that run in parallel tracks in
each slot. Times are stored in UTC and shown in Europe/London, the portal's time zone."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from simple_history.models import HistoricalRecords


class EventQuerySet(models.QuerySet):
    def national(self):
        return self.filter(region__isnull=True)

    def upcoming(self, now=None):
        """Not yet over."""
        return self.filter(ends_at__gt=now or timezone.now())

    def past(self, now=None):
        return self.filter(ends_at__lte=now or timezone.now())

    def open_for_booking(self, now=None):
        """Taking bookings now: the booking window is open and the event has not begun."""
        now = now or timezone.now()
        return self.filter(booking_opens_at__lte=now, booking_closes_at__gt=now, starts_at__gt=now)

    def for_regions(self, region_ids):
        """National events, and those of these regions."""
        return self.filter(models.Q(region__isnull=True) | models.Q(region_id__in=region_ids))


class Event(models.Model):
    """A conference, training day, course or online session that councillors book."""

    class Kind(models.TextChoices):
        CONFERENCE = "conference", "Conference"
        TRAINING_DAY = "training_day", "Training day"
        COURSE = "course", "Course"
        ONLINE = "online", "Online session"

    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.TRAINING_DAY)
    description = models.TextField(blank=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    venue = models.CharField(
        max_length=300, blank=True, help_text="Where it is held: the building, street and town."
    )
    # Shown only to those booked on it, its organisers and those who manage it.
    online_link = models.URLField(
        "online joining link", max_length=500, blank=True, help_text="Shown only to those booked."
    )
    # Blank for a national event; otherwise the region whose councillors may book it.
    region = models.ForeignKey(
        "regions.Region", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    organisers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="organised_events"
    )
    booking_opens_at = models.DateTimeField()
    booking_closes_at = models.DateTimeField()
    # Places, for an event without sessions (each session has its own). Blank: no limit.
    capacity = models.PositiveIntegerField(null=True, blank=True)
    # The annual conference, for which serving councillors apply for a free ex-officio pass.
    is_annual_conference = models.BooleanField("annual conference", default=False)
    # Passes that may be approved; blank for no limit. Approvals past it wait for a pass.
    pass_capacity = models.PositiveIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = EventQuerySet.as_manager()
    history = HistoricalRecords(m2m_fields=[organisers])

    class Meta:
        ordering = ["starts_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="event_ends_after_start"
            ),
            models.CheckConstraint(
                condition=models.Q(booking_closes_at__gt=models.F("booking_opens_at")),
                name="event_booking_window_in_order",
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("events:detail", args=[self.pk])

    @property
    def is_national(self) -> bool:
        return self.region_id is None

    @property
    def scope_name(self) -> str:
        return "National" if self.region_id is None else self.region.name

    @cached_property
    def has_sessions(self) -> bool:
        return self.sessions.exists()

    def is_open_for_booking(self, now=None) -> bool:
        now = now or timezone.now()
        return self.booking_opens_at <= now < self.booking_closes_at and now < self.starts_at

    @property
    def booking_is_open(self) -> bool:
        return self.is_open_for_booking()

    @property
    def booking_not_yet_open(self) -> bool:
        return timezone.now() < self.booking_opens_at

    @property
    def has_begun(self) -> bool:
        return self.starts_at <= timezone.now()

    @property
    def is_over(self) -> bool:
        return self.ends_at <= timezone.now()

    @property
    def is_training(self) -> bool:
        """Training, as a councillor's record of training completed lists it."""
        return self.kind != self.Kind.CONFERENCE

    @property
    def spans_days(self) -> bool:
        return timezone.localdate(self.starts_at) != timezone.localdate(self.ends_at)


class TimeSlot(models.Model):
    """A stretch of an event's programme in which sessions run side by side: a person books
    at most one session in each."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="slots")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()

    class Meta:
        ordering = ["starts_at", "ends_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "starts_at", "ends_at"], name="one_slot_per_time_per_event"
            ),
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="slot_ends_after_start"
            ),
        ]

    def __str__(self):
        start, end = timezone.localtime(self.starts_at), timezone.localtime(self.ends_at)
        return f"{start:%-d %b %H:%M}–{end:%H:%M}"

    @property
    def label(self) -> str:
        start, end = timezone.localtime(self.starts_at), timezone.localtime(self.ends_at)
        return f"{start:%H:%M} to {end:%H:%M}"


class Session(models.Model):
    """One session of an event's programme: a talk, workshop or class in a slot and a track,
    with its own places."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="sessions")
    slot = models.ForeignKey(TimeSlot, on_delete=models.PROTECT, related_name="sessions")
    track = models.CharField(max_length=100, blank=True)
    title = models.CharField(max_length=200)
    speaker = models.CharField(max_length=200, blank=True)
    room = models.CharField(max_length=100, blank=True)
    capacity = models.PositiveIntegerField()

    history = HistoricalRecords()

    class Meta:
        ordering = ["slot__starts_at", "track", "title", "pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(capacity__gt=0), name="session_has_places")
        ]

    def __str__(self):
        return self.title
