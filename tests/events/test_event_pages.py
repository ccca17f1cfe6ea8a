"""The events pages as people use them: holding an event, booking, a councillor's home page and
profile, their data, conference passes, the attendance list and report, and how long access
needs are kept."""

import csv
import datetime
import io
import json

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from factories import EventFactory, programme_create

from events.models import Booking, CalendarFeed, Event, PassApplication, Place
from events.services import bookings, passes, retention
from members.models import ErasureRequest, ExportLogEntry, Notice
from members.services.erasure import erasure_carry_out

pytestmark = pytest.mark.django_db


def _form_time(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def _event_form(region, **changes):
    start = timezone.now() + datetime.timedelta(days=20)
    return {
        "title": "Licensing committee basics",
        "kind": "course",
        "description": "For new members of licensing committees.",
        "starts_at": _form_time(start),
        "ends_at": _form_time(start + datetime.timedelta(hours=3)),
        "venue": "Civic Centre",
        "online_link": "",
        "region": region.pk if region else "",
        "capacity": "12",
        "booking_opens_at": _form_time(timezone.now()),
        "booking_closes_at": _form_time(start - datetime.timedelta(days=1)),
        "organisers": "",
    } | changes


def test_a_representative_holds_an_event_for_their_region_and_organises_it(
    client, rep_x, region_x, councillor_x
):
    client.force_login(rep_x)
    response = client.post(reverse("events:create"), _event_form(region_x))
    event = Event.objects.get()
    assert response.url == reverse("events:detail", args=[event.pk])
    assert (event.region, list(event.organisers.all())) == (region_x, [rep_x])
    assert event.history.exists()


def test_only_staff_hold_national_events(client, rep_x, staff, councillor_x):
    client.force_login(rep_x)
    response = client.post(reverse("events:create"), _event_form(None))
    assert response.status_code == 200
    assert not Event.objects.exists()
    client.force_login(staff)
    organisers = f"{councillor_x.user.email}\n"
    response = client.post(reverse("events:create"), _event_form(None, organisers=organisers))
    assert response.status_code == 302
    event = Event.objects.get()
    assert event.is_national
    assert set(event.organisers.all()) == {staff, councillor_x.user}


def test_an_organiser_must_have_an_account(client, staff):
    client.force_login(staff)
    form = _event_form(None, organisers="nobody@example.org")
    response = client.post(reverse("events:create"), form)
    assert "No one on the portal has the address nobody@example.org" in response.text


def test_a_councillor_books_sessions_through_the_page(client, councillor_x):
    event = EventFactory(capacity=None)
    sessions = programme_create(event, slots=2, tracks=["A", "B"], capacity=1)
    client.force_login(councillor_x.user)
    page = client.get(reverse("events:detail", args=[event.pk]))
    assert "Book these sessions" in page.text
    data = {
        f"slot_{sessions[0].slot_id}": sessions[0].pk,
        f"slot_{sessions[3].slot_id}": sessions[3].pk,
        "access_needs": "Large print",
    }
    response = client.post(reverse("events:book", args=[event.pk]), data)
    assert response.status_code == 302
    booked = Place.objects.filter(booking__user=councillor_x.user).values_list("session", flat=True)
    assert sorted(booked) == [sessions[0].pk, sessions[3].pk]
    page = client.get(reverse("events:detail", args=[event.pk])).text
    assert "Your place" in page and "Change your booking" in page


def test_a_choice_of_two_sessions_in_one_slot_is_refused_with_a_message(client, councillor_x):
    event = EventFactory(capacity=None)
    first, second = programme_create(event, slots=1, tracks=["A", "B"])
    client.force_login(councillor_x.user)
    # A crafted form naming the slot twice: the field takes one value, the service checks.
    response = client.post(
        reverse("events:book", args=[event.pk]),
        {f"slot_{first.slot_id}": [first.pk, second.pk]},
    )
    assert Place.objects.filter(booking__user=councillor_x.user).count() <= 1
    assert response.status_code in (302, 400)


def test_home_shows_bookings_offers_and_open_events_of_the_region_and_nation(
    client, councillor_x, councillors_x, region_x, region_y
):
    national = EventFactory(title="National campaign day", capacity=1)
    ours = EventFactory(title="Region X course", region=region_x)
    EventFactory(title="Region Y course", region=region_y)
    EventFactory(title="Not yet open", booking_opens_at=timezone.now() + datetime.timedelta(days=1))
    holder = councillors_x[0].user
    bookings.booking_choose(event=national, user=holder)
    bookings.booking_choose(event=national, user=councillor_x.user)
    bookings.booking_choose(event=ours, user=councillor_x.user)
    client.force_login(councillor_x.user)
    page = client.get(reverse("home")).text
    assert "Your events" in page
    assert "Region X course" in page and "National campaign day" in page
    assert "Region Y course" not in page and "Not yet open" not in page
    assert "is offered to you" not in page
    bookings.booking_cancel(booking=Booking.objects.get(user=holder), user=holder)
    page = client.get(reverse("home")).text
    assert "is offered to you" in page


def test_people_who_are_not_councillors_get_no_events_section(client, staff):
    client.force_login(staff)
    assert "Your events" not in client.get(reverse("home")).text


def test_the_profile_lists_training_completed_and_the_data_export_includes_it(
    client, councillor_x, staff
):
    course = EventFactory(
        title="Mental Health First Aid",
        kind="course",
        starts_at=timezone.make_aware(datetime.datetime(2027, 3, 12, 9, 30)),
        ends_at=timezone.make_aware(datetime.datetime(2027, 3, 12, 16, 30)),
        booking_opens_at=timezone.make_aware(datetime.datetime(2026, 11, 1, 9)),
        booking_closes_at=timezone.make_aware(datetime.datetime(2027, 3, 10, 9)),
        organisers=[staff],
    )
    with time_machine.travel(datetime.datetime(2027, 1, 5, 12, tzinfo=datetime.UTC)):
        bookings.booking_choose(event=course, user=councillor_x.user, dietary_requirements="Vegan")
    bookings.attendance_mark(booking=Booking.objects.get(), by=staff, attended=True)
    client.force_login(councillor_x.user)
    assert "Mental Health First Aid, 12 March 2027" in client.get(reverse("profile")).text
    data = json.loads(client.get(reverse("my_data_json")).content)
    assert data["training_completed"] == [
        {"event": "Mental Health First Aid", "date": "2027-03-12"}
    ]
    assert data["event_bookings"][0]["dietary_requirements"] == "Vegan"
    assert data["event_places"][0]["status"] == "Booked"


def test_staff_approve_passes_in_bulk_export_them_and_each_applicant_is_told(
    client, staff, councillor_x, councillors_x
):
    conference = EventFactory(
        title="Annual conference", kind="conference", is_annual_conference=True, pass_capacity=2
    )
    applicants = [councillor_x.user] + [c.user for c in councillors_x[:3]]
    for user in applicants:
        client.force_login(user)
        client.post(reverse("events:pass_apply", args=[conference.pk]))
    assert conference.pass_applications.count() == 4
    client.force_login(staff)
    ids = list(conference.pass_applications.order_by("pk").values_list("pk", flat=True))
    response = client.post(
        reverse("events:passes", args=[conference.pk]),
        {"applications": ids[:3], "decision": "approve"},
    )
    assert response.status_code == 302
    refused = client.post(
        reverse("events:passes", args=[conference.pk]),
        {"applications": ids[3:], "decision": "refuse", "reason": "Not a member council."},
    )
    assert refused.status_code == 302
    statuses = list(conference.pass_applications.order_by("pk").values_list("status", flat=True))
    assert statuses == ["approved", "approved", "waiting", "refused"]
    told = Notice.objects.filter(kind="conference_pass").values_list("to_email", flat=True)
    assert sorted(told) == sorted(u.email for u in applicants)

    response = client.get(reverse("events:passes_csv", args=[conference.pk]))
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["name", "council", "email", "pass_type"]
    assert sorted(r[2] for r in rows[1:]) == sorted(u.email for u in applicants[:2])
    assert rows[1][3] == "Ex-officio (free)"
    entry = ExportLogEntry.objects.get()
    assert (entry.user, entry.kind, entry.rows) == (staff, "conference_passes", 2)

    # The councillor sees the status on their home page; a withdrawal frees a pass for the
    # one waiting.
    client.force_login(councillor_x.user)
    assert "Your pass for" in client.get(reverse("home")).text
    client.post(reverse("events:pass_withdraw", args=[conference.pk]))
    statuses = list(conference.pass_applications.order_by("pk").values_list("status", flat=True))
    assert statuses == ["withdrawn", "approved", "approved", "refused"]


def test_one_application_per_councillor_per_conference(councillor_x):
    conference = EventFactory(kind="conference", is_annual_conference=True)
    passes.pass_apply(event=conference, user=councillor_x.user)
    with pytest.raises(Exception, match="already applied"):
        passes.pass_apply(event=conference, user=councillor_x.user)
    assert PassApplication.objects.count() == 1


def test_the_attendance_list_marks_who_came_and_the_report_counts_them(
    client, rep_x, region_x, councillor_x, councillors_x
):
    event = EventFactory(region=region_x, capacity=2, organisers=[rep_x])
    for user in [councillor_x.user] + [c.user for c in councillors_x[:2]]:
        bookings.booking_choose(event=event, user=user)
    client.force_login(rep_x)
    url = reverse("events:attendance", args=[event.pk])
    page = client.get(url).text
    assert "2 booked, 0 marked as attended" in page
    booking = Booking.objects.get(user=councillor_x.user)
    response = client.post(url, {"booking": booking.pk, "attended": "yes"})
    assert response.url.endswith(f"#booking-{booking.pk}")
    assert "2 booked, 1 marked as attended" in client.get(url).text
    report = client.get(reverse("events:report", args=[event.pk]))
    assert report.context["totals"] == {
        "booked": 2,
        "offered": 0,
        "waiting": 1,
        "people": 2,
        "attended": 1,
    }
    assert [(r["region"], r["booked"], r["waiting"]) for r in report.context["regions"]] == [
        ("Region X", 2, 1)
    ]


def test_access_needs_are_deleted_a_set_number_of_days_after_the_event(settings, councillor_x):
    settings.EVENT_NEEDS_DAYS = 30
    event = EventFactory(capacity=5)
    bookings.booking_choose(event=event, user=councillor_x.user, access_needs="Hearing loop")
    after = event.ends_at + datetime.timedelta(days=29)
    with time_machine.travel(after):
        assert retention.booking_needs_clear() == 0
    with time_machine.travel(after + datetime.timedelta(days=2)):
        assert retention.booking_needs_clear() == 1
    booking = Booking.objects.get()
    assert (booking.access_needs, booking.needs_cleared_at is not None) == ("", True)
    # The booking's history never held them.
    assert not hasattr(booking.history.first(), "access_needs")


def test_erasure_removes_access_needs_and_the_calendar_feed(councillor_x, staff):
    from events.services import calendar_feeds

    event = EventFactory(capacity=5)
    bookings.booking_choose(event=event, user=councillor_x.user, access_needs="Hearing loop")
    calendar_feeds.calendar_feed_create(user=councillor_x.user)
    request = ErasureRequest.objects.create(user=councillor_x.user)
    erasure_carry_out(request=request, by=staff)
    assert Booking.objects.get().access_needs == ""
    assert not CalendarFeed.objects.exists()
