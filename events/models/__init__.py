"""The models of the events app: events.py (events, their time slots and sessions),
bookings.py (bookings, the places they hold or wait for, calendar feeds) and passes.py
(applications for a conference pass)."""

from .bookings import Booking, CalendarFeed, Place, PlaceQuerySet
from .events import Event, EventQuerySet, Session, TimeSlot
from .passes import PassApplication

__all__ = [
    "Booking",
    "CalendarFeed",
    "Event",
    "EventQuerySet",
    "PassApplication",
    "Place",
    "PlaceQuerySet",
    "Session",
    "TimeSlot",
]
