"""Writes for a person's private calendar feed: making its address, replacing it (the old one
stops working), and turning it off."""

from django.db import transaction

from ..models import CalendarFeed
from ..models.bookings import new_feed_key


@transaction.atomic
def calendar_feed_create(*, user) -> CalendarFeed:
    """The person's feed, made if they have none."""
    feed, _created = CalendarFeed.objects.get_or_create(user=user)
    return feed


@transaction.atomic
def calendar_feed_replace(*, user) -> CalendarFeed:
    """A new address for the person's feed: the one they had answers 404 from now on."""
    feed, created = CalendarFeed.objects.select_for_update().get_or_create(user=user)
    if not created:
        feed.key = new_feed_key()
        feed.save(update_fields=["key"])
    return feed


@transaction.atomic
def calendar_feed_revoke(*, user) -> int:
    """Turn the feed off: its address answers 404."""
    deleted, _ = CalendarFeed.objects.filter(user=user).delete()
    return deleted
