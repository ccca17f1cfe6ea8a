"""Confirmations and reminders carry a calendar of the booking; reminders go seven days and
one day before, once each, on the right day; and each person's private feed is a valid
calendar of their bookings."""

import datetime

import icalendar
import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from factories import EventFactory, programme_create

from alc_portal.mailcatcher import SmtpCatcher
from events.calendar import feed_token
from events.models import Booking
from events.services import bookings, calendar_feeds, reminders
from members.models import Notice
from members.services import notices

pytestmark = pytest.mark.django_db


@pytest.fixture
def smtp(settings):
    catcher = SmtpCatcher().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = catcher.host, catcher.port
    yield catcher
    catcher.stop()


def _london(year, month, day, hour, minute=0):
    zone = timezone.get_default_timezone()
    return datetime.datetime(year, month, day, hour, minute, tzinfo=zone)


def _sent(smtp):
    notices.notices_send_due()
    return list(smtp.messages)


def _valid_calendar(text: str) -> icalendar.Calendar:
    """The calendar in `text`, checked against what RFC 5545 requires of it: lines ended by
    CRLF and folded at 75 octets; VERSION and PRODID; in each event a UID (unique), DTSTAMP,
    DTSTART, and a DTEND after its start."""
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    calendar = icalendar.Calendar.from_ical(text)
    assert calendar.name == "VCALENDAR"
    assert str(calendar["VERSION"]) == "2.0" and str(calendar["PRODID"])
    uids = []
    for item in calendar.walk("VEVENT"):
        assert {"UID", "DTSTAMP", "DTSTART", "DTEND", "SUMMARY"} <= set(item)
        assert item.decoded("DTSTART").tzinfo is not None
        assert item.decoded("DTEND") > item.decoded("DTSTART")
        uids.append(str(item["UID"]))
    assert len(uids) == len(set(uids))
    return calendar


def _calendar_of(message) -> icalendar.Calendar:
    parts = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1, "one calendar attached"
    assert parts[0].get_filename() == "booking.ics"
    # Reading a message back turns its line ends into the reader's: CRLF as sent, again.
    text = parts[0].get_content().replace("\r\n", "\n").replace("\n", "\r\n")
    return _valid_calendar(text)


def _events_in(calendar):
    return sorted(
        (str(e["SUMMARY"]), e.decoded("DTSTART"), e.decoded("DTEND"))
        for e in calendar.walk("VEVENT")
    )


@pytest.fixture
def training_day(councillor_x):
    """A training day on Saturday 13 March 2027, two slots of two sessions; booking open
    since January."""
    event = EventFactory(
        title="Campaign training, day one",
        starts_at=_london(2027, 3, 13, 9, 30),
        ends_at=_london(2027, 3, 13, 17, 0),
        booking_opens_at=_london(2027, 1, 4, 9),
        booking_closes_at=_london(2027, 3, 12, 18),
        capacity=None,
    )
    sessions = programme_create(event, slots=2, tracks=["Doorstep", "Digital"])
    return event, sessions


def test_the_confirmation_carries_a_valid_calendar_of_what_was_booked(
    smtp, training_day, councillor_x
):
    event, sessions = training_day
    with time_machine.travel(_london(2027, 2, 1, 12)):
        bookings.booking_choose(
            event=event, user=councillor_x.user, session_ids=[sessions[0].pk, sessions[3].pk]
        )
        (message,) = _sent(smtp)
    assert message["To"] == councillor_x.user.email
    assert "Your booking: Campaign training, day one" in message["Subject"]
    calendar = _calendar_of(message)
    assert _events_in(calendar) == sorted(
        (
            f"{s.title} (Campaign training, day one)",
            s.slot.starts_at.astimezone(datetime.UTC),
            s.slot.ends_at.astimezone(datetime.UTC),
        )
        for s in (sessions[0], sessions[3])
    )
    # The text says the same, and nothing of the person's access needs.
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert sessions[0].title in text and sessions[3].title in text


def test_reminders_go_seven_days_and_one_day_before_once_each(
    smtp, training_day, councillor_x, councillors_x
):
    event, sessions = training_day
    early, late = councillor_x.user, councillors_x[0].user
    with time_machine.travel(_london(2027, 2, 1, 12)):
        bookings.booking_choose(event=event, user=early, session_ids=[sessions[1].pk])
    _sent(smtp)
    smtp.messages.clear()
    # Six days and 23 hours... before the due hour on the day a week before: nothing yet.
    with time_machine.travel(_london(2027, 3, 6, 7, 59)):
        assert reminders.reminders_queue() == 0
    with time_machine.travel(_london(2027, 3, 6, 8, 5)):
        assert reminders.reminders_queue() == 1
        # Someone booking now has just had their confirmation: no reminder for them today.
        bookings.booking_choose(event=event, user=late, session_ids=[sessions[2].pk])
    with time_machine.travel(_london(2027, 3, 6, 20)):
        assert reminders.reminders_queue() == 0  # every hour of the day: still once
    with time_machine.travel(_london(2027, 3, 7, 9)):
        assert reminders.reminders_queue() == 0  # six days before: nothing
    with time_machine.travel(_london(2027, 3, 12, 8, 30)):
        assert reminders.reminders_queue() == 2  # the day before, for both
        assert reminders.reminders_queue() == 0
        sent = _sent(smtp)
    reminders_sent = [m for m in sent if "booking" not in m["Subject"].lower()]
    subjects = sorted((m["To"], m["Subject"]) for m in reminders_sent)
    assert subjects == sorted(
        [
            (early.email, "[ALC Portal] In 7 days: Campaign training, day one"),
            (early.email, "[ALC Portal] Tomorrow: Campaign training, day one"),
            (late.email, "[ALC Portal] Tomorrow: Campaign training, day one"),
        ]
    )
    for message in reminders_sent:
        summaries = [s for s, _start, _end in _events_in(_calendar_of(message))]
        session = sessions[1] if message["To"] == early.email else sessions[2]
        assert summaries == [f"{session.title} (Campaign training, day one)"]
    assert Notice.objects.filter(kind__startswith="event_reminder").count() == 3


def test_no_reminder_for_a_cancelled_booking(training_day, councillor_x):
    event, sessions = training_day
    with time_machine.travel(_london(2027, 2, 1, 12)):
        bookings.booking_choose(event=event, user=councillor_x.user, session_ids=[sessions[0].pk])
        booking = Booking.objects.get()
        bookings.booking_cancel(booking=booking, user=councillor_x.user)
    with time_machine.travel(_london(2027, 3, 6, 9)):
        assert reminders.reminders_queue() == 0


def test_the_calendar_feed_is_a_valid_calendar_of_the_persons_bookings(
    client, training_day, councillor_x
):
    event, sessions = training_day
    other = EventFactory(title="Budget scrutiny", capacity=5)
    with time_machine.travel(_london(2027, 2, 1, 12), tick=False):
        bookings.booking_choose(event=event, user=councillor_x.user, session_ids=[sessions[2].pk])
    bookings.booking_choose(event=other, user=councillor_x.user)
    feed = calendar_feeds.calendar_feed_create(user=councillor_x.user)
    response = client.get(reverse("events:calendar_feed", args=[feed_token(feed)]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = _valid_calendar(response.content.decode())
    assert [
        str(e["SUMMARY"]) for e in sorted(calendar.walk("VEVENT"), key=lambda e: str(e["SUMMARY"]))
    ] == [
        "Budget scrutiny",
        f"{sessions[2].title} (Campaign training, day one)",
    ]
    uids = [str(e["UID"]) for e in calendar.walk("VEVENT")]
    assert len(set(uids)) == 2
    # Giving up the place takes it out of the feed.
    bookings.booking_cancel(booking=Booking.objects.get(event=other), user=councillor_x.user)
    calendar = _valid_calendar(
        client.get(reverse("events:calendar_feed", args=[feed_token(feed)])).content.decode()
    )
    assert len(calendar.walk("VEVENT")) == 1


def test_text_in_a_calendar_is_escaped_and_folded(training_day, councillor_x):
    from events.calendar import CalendarItem, ics_calendar

    event, _sessions = training_day
    item = CalendarItem(
        uid="x",
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        summary="Housing; planning, and the rest \\ a very long title " + "é" * 60,
        description="Line one\nLine two",
    )
    calendar = _valid_calendar(ics_calendar([item]))
    (parsed,) = calendar.walk("VEVENT")
    assert str(parsed["SUMMARY"]) == item.summary
    assert str(parsed["DESCRIPTION"]) == "Line one\nLine two"
