"""How long events keep what (README, "How long personal data is kept"): run daily by beat
(events.tasks.retention_run)."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from ..models import Booking


def booking_needs_clear(*, days: int | None = None) -> int:
    """The access needs and dietary requirements given with bookings, `days`
    (EVENT_NEEDS_DAYS) after the event ended. They are kept nowhere else (not in the
    booking's history, not in any email)."""
    days = settings.EVENT_NEEDS_DAYS if days is None else days
    cutoff = timezone.now() - timedelta(days=days)
    return (
        Booking.objects.filter(event__ends_at__lt=cutoff)
        .filter(~Q(access_needs="") | ~Q(dietary_requirements=""))
        .update(access_needs="", dietary_requirements="", needs_cleared_at=timezone.now())
    )


def retention_apply() -> dict:
    return {"booking_needs": booking_needs_clear()}
