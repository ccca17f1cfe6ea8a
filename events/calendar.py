"""Calendars (RFC 5545): the `.ics` attached to a booking's confirmation and reminders, and a
person's private feed of their bookings, whose address is signed and can be revoked.

Times are written in UTC (`...Z`), which every calendar program converts to its own zone, so
the files need no time-zone definitions."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone

PRODUCT = "-//Association of Labour Councillors//ALC Portal//EN"
FEED_SALT = "events.calendar-feed"
MAX_LINE_OCTETS = 75


@dataclasses.dataclass(frozen=True)
class CalendarItem:
    uid: str
    starts_at: datetime
    ends_at: datetime
    summary: str
    location: str = ""
    description: str = ""
    url: str = ""


def _escape(text: str) -> str:
    return (
        text.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space, never splitting
    a character."""
    out, current, size = [], "", 0
    for char in line:
        width = len(char.encode())
        if size + width > MAX_LINE_OCTETS:
            out.append(current)
            current, size = " ", 1
        current += char
        size += width
    out.append(current)
    return "\r\n".join(out)


def uid_domain() -> str:
    return urlsplit(settings.PORTAL_URL).hostname or "alc-portal"


def ics_calendar(items: list[CalendarItem], *, name: str = "", method: str = "PUBLISH") -> str:
    stamp = _utc(timezone.now())
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODUCT}", "CALSCALE:GREGORIAN"]
    if method:
        lines.append(f"METHOD:{method}")
    if name:
        lines.append(f"X-WR-CALNAME:{_escape(name)}")
    for item in items:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{item.uid}@{uid_domain()}",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{_utc(item.starts_at)}",
            f"DTEND:{_utc(item.ends_at)}",
            f"SUMMARY:{_escape(item.summary)}",
            "STATUS:CONFIRMED",
        ]
        if item.location:
            lines.append(f"LOCATION:{_escape(item.location)}")
        if item.description:
            lines.append(f"DESCRIPTION:{_escape(item.description)}")
        if item.url:
            lines.append(f"URL:{item.url}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "".join(_fold(line) + "\r\n" for line in lines)


def booking_items(booking, places) -> list[CalendarItem]:
    """A booking's booked places as calendar entries: each session, or the event itself."""
    event = booking.event
    link = settings.PORTAL_URL.rstrip("/") + event.get_absolute_url()
    location = event.online_link or event.venue
    items = []
    for place in places:
        if not place.is_booked:
            continue
        if place.session_id is None:
            items.append(
                CalendarItem(
                    uid=f"event-{event.pk}-booking-{booking.pk}",
                    starts_at=event.starts_at,
                    ends_at=event.ends_at,
                    summary=event.title,
                    location=location,
                    description=f"Your booking: {link}",
                    url=link,
                )
            )
            continue
        session = place.session
        where = ", ".join(part for part in (session.room, location) if part)
        speaker = f" with {session.speaker}" if session.speaker else ""
        items.append(
            CalendarItem(
                uid=f"session-{session.pk}-booking-{booking.pk}",
                starts_at=session.slot.starts_at,
                ends_at=session.slot.ends_at,
                summary=f"{session.title} ({event.title})",
                location=where,
                description=f"{session.title}{speaker}. Your booking: {link}",
                url=link,
            )
        )
    return items


# The private feed's address: the owner's id and the feed's key, signed. A new key (or none)
# makes every earlier address answer 404.


def feed_token(feed) -> str:
    return signing.Signer(salt=FEED_SALT).sign(f"{feed.user_id}.{feed.key}")


def feed_token_read(token: str) -> tuple[int, str] | None:
    """(user id, key) from a feed address's token, or None if it was not signed here."""
    try:
        value = signing.Signer(salt=FEED_SALT).unsign(token)
    except signing.BadSignature:
        return None
    user_id, _, key = value.partition(".")
    if not user_id.isdigit() or not key:
        return None
    return int(user_id), key


def feed_url(feed) -> str:
    path = reverse("events:calendar_feed", args=[feed_token(feed)])
    return settings.PORTAL_URL.rstrip("/") + path
