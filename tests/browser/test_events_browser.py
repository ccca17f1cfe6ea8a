"""Events in a real browser: a councillor books sessions of a training day on a phone, joins a
waiting list, gives a session up and sees their home page follow; the national office approves
conference passes in bulk and downloads the list; and every events page passes axe-core, on a
desktop and on a phone."""

import csv
import io
import re

import pytest
from accessibility import assert_accessible
from browsing import log_in
from factories import (
    PASSWORD,
    TOTP_SECRET,
    CouncilFactory,
    CouncillorFactory,
    EventFactory,
    RegionFactory,
    StaffFactory,
    programme_create,
)

from events.models import PassApplication, Place
from events.services import bookings, calendar_feeds, passes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world():
    region = RegionFactory(name="Testshire", slug="testshire")
    council = CouncilFactory(region=region, name="Testshire County Council")
    councillor = CouncillorFactory(
        council=council, user__email="cllr@example.org", user__full_name="Ada Oakley"
    )
    staff = StaffFactory(email="staff@example.org", full_name="Sam Staff")
    day = EventFactory(title="Project Victory campaign training day", capacity=None)
    day.organisers.add(staff)
    sessions = programme_create(
        day, slots=4, tracks=["Campaigning", "Digital", "Policy", "Organising"], capacity=10
    )
    # The first session of the last slot is full.
    full = sessions[12]
    full.capacity = 1
    full.save()
    holder = CouncillorFactory(council=council, user__full_name="Holder Person")
    bookings.booking_choose(event=day, user=holder.user, session_ids=[full.pk])
    course = EventFactory(title="Mental Health First Aid", kind="course", region=region)
    course.organisers.add(staff)
    bookings.booking_choose(event=course, user=holder.user, access_needs="Step-free access")
    conference = EventFactory(
        title="Annual conference", kind="conference", is_annual_conference=True, capacity=None
    )
    applicants = [CouncillorFactory(council=council) for _ in range(3)]
    for applicant in applicants:
        PassApplication.objects.create(event=conference, user=applicant.user)
    return {
        "councillor": councillor,
        "staff": staff,
        "day": day,
        "sessions": sessions,
        "full": full,
        "course": course,
        "conference": conference,
        "applicants": applicants,
    }


def _choose(page, session):
    page.get_by_role("radio", name=session.title).check()


def test_a_councillor_books_on_a_phone_waits_for_a_full_session_and_gives_one_up(page, world):
    page.set_viewport_size({"width": 320, "height": 740})
    log_in(page, "cllr@example.org", PASSWORD)
    sessions, day = world["sessions"], world["day"]
    page.goto(f"/events/{day.pk}/")
    assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    for session in (sessions[0], sessions[5], sessions[10], world["full"]):
        _choose(page, session)
    page.get_by_label("Dietary requirements").fill("Vegetarian")
    page.get_by_role("button", name="Book these sessions").click()
    page.wait_for_load_state()
    assert page.get_by_text("3 places booked, on 1 waiting list").is_visible()
    mine = page.locator(".my-places li").filter(has_text=world["full"].title)
    assert "On the waiting list" in mine.inner_text()

    page.goto("/")
    home = page.locator("section", has=page.get_by_role("heading", name="Your events"))
    text = home.inner_text()
    assert f"{sessions[5].title} (booked)" in text
    assert f"{world['full'].title} (on the waiting list)" in text

    # Give up the second slot's session.
    page.goto(f"/events/{day.pk}/")
    page.get_by_role("group", name=sessions[5].slot.label).get_by_label("No session").check()
    page.get_by_role("button", name="Save my booking").click()
    page.wait_for_load_state()
    assert page.get_by_text("1 given up").is_visible()
    page.goto("/")
    text = home.inner_text()
    assert sessions[5].title not in text
    assert f"{sessions[0].title} (booked)" in text
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    booked = Place.objects.booked().filter(booking__user=world["councillor"].user)
    assert sorted(booked.values_list("session", flat=True)) == [sessions[0].pk, sessions[10].pk]


def test_staff_approve_passes_in_bulk_and_download_the_list(page, world):
    log_in(page, "staff@example.org", PASSWORD, totp_secret=TOTP_SECRET)
    page.goto(f"/events/{world['conference'].pk}/passes/")
    assert_accessible(page)
    page.get_by_label("Tick every application").check()
    for applicant in world["applicants"]:
        assert page.get_by_label(applicant.user.full_name).is_checked()
    page.get_by_role("radio", name="Approve").check()
    page.get_by_role("button", name="Decide the ticked applications").click()
    page.wait_for_load_state()
    assert page.get_by_text("Decided: 3 approved").is_visible()
    assert page.get_by_text("No applications are waiting.").is_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the approved list (CSV)").click()
    content = download.value.path().read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(content)))
    assert rows[0] == ["name", "council", "email", "pass_type"]
    assert sorted(row[2] for row in rows[1:]) == sorted(a.user.email for a in world["applicants"])


def test_the_attendance_list_prints_without_buttons_and_marks_on_a_phone(page, world):
    page.set_viewport_size({"width": 320, "height": 740})
    log_in(page, "staff@example.org", PASSWORD, totp_secret=TOTP_SECRET)
    page.goto(f"/events/{world['course'].pk}/attendance/")
    assert page.get_by_text("Step-free access").is_visible()
    page.get_by_role("button", name=re.compile(r"^Attended\W+Holder Person$")).click()
    page.wait_for_load_state()
    assert page.get_by_text("1 booked, 1 marked as attended.").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.emulate_media(media="print")
    assert not page.get_by_role("button", name=re.compile("Undo")).is_visible()
    assert not page.get_by_role("navigation", name="Main").is_visible()
    assert page.get_by_role("heading", name="Holder Person").is_visible()


def _pages(world):
    day, course, conference = world["day"], world["course"], world["conference"]
    session, offered = world["sessions"][0], world["offered"]
    return {
        "staff@example.org": [
            "/events/",
            "/events/new/",
            f"/events/{day.pk}/",
            f"/events/{day.pk}/edit/",
            f"/events/{day.pk}/sessions/",
            f"/events/{day.pk}/sessions/add/",
            f"/events/sessions/{session.pk}/edit/",
            f"/events/{day.pk}/attendance/",
            f"/events/{day.pk}/report/",
            f"/events/{course.pk}/",
            f"/events/{course.pk}/attendance/",
            f"/events/{course.pk}/report/",
            f"/events/{conference.pk}/",
            f"/events/{conference.pk}/passes/",
            "/events/calendar/",
        ],
        "cllr@example.org": [
            "/",
            "/profile/",
            "/events/",
            f"/events/{day.pk}/",
            f"/events/{course.pk}/",
            f"/events/{conference.pk}/",
            f"/events/{offered.pk}/",
            "/events/calendar/",
        ],
    }


@pytest.mark.parametrize("width", [1280, 320])
def test_every_events_page_is_accessible(page, world, width):
    page.set_viewport_size({"width": width, "height": 800})
    # Something in every state: sessions booked and waited for, a place booked, a place offered
    # to accept, a pass applied for, a calendar address.
    councillor = world["councillor"].user
    sessions = world["sessions"]
    bookings.booking_choose(
        event=world["day"], user=councillor, session_ids=[sessions[1].pk, world["full"].pk]
    )
    bookings.booking_choose(event=world["course"], user=councillor)
    holder = CouncillorFactory(council=world["councillor"].council).user
    offered = EventFactory(title="Chairing meetings", kind="online", capacity=1)
    bookings.booking_choose(event=offered, user=holder)
    bookings.booking_choose(event=offered, user=councillor)
    bookings.booking_cancel(booking=offered.bookings.get(user=holder), user=holder)
    assert Place.objects.get(event=offered, booking__user=councillor).is_offered
    passes.pass_apply(event=world["conference"], user=councillor)
    calendar_feeds.calendar_feed_create(user=councillor)
    world["offered"] = offered
    for email, paths in _pages(world).items():
        page.context.clear_cookies()
        log_in(page, email, PASSWORD, totp_secret=TOTP_SECRET)
        for path in paths:
            response = page.goto(path)
            assert response.status == 200, path
            assert_accessible(page)
            assert page.evaluate("document.documentElement.scrollWidth") <= width, path
