"""Writes for events, one module per entity: events (events and their sessions), places (taking
and freeing places, waiting lists and offers), bookings (booking, changing, cancelling,
attendance), passes (conference passes), reminders, calendar_feeds and retention. Each function
is keyword-only and named `<thing>_<verb>`."""

from . import (  # noqa: F401 - so that `services.<entity>.<function>` reads as it is
    bookings,
    calendar_feeds,
    events,
    passes,
    places,
    reminders,
    retention,
)
