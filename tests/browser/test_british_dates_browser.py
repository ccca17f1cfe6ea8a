"""A browser set to US English shows and reads dates exactly as one set to British English:
"7 December 2026" (or 07/12/2026 typed), and times on the 24-hour clock. Before, the date boxes
followed the browser's locale and showed 12/07/2026 and "--:-- --" in an American browser."""

import contextlib
import datetime
import re

import pytest
from accessibility import assert_accessible
from browsing import log_in
from django.utils import timezone
from factories import (
    PASSWORD,
    CouncilGroupFactory,
    CouncillorFactory,
    MailingFactory,
    StaffFactory,
)

from alc_portal.dates import DATE_DAY_FIRST, DATE_HINT, date_display
from campaigns.models import Mailing
from regions.models import GroupOfficer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DECEMBER_7 = datetime.date(2026, 12, 7)
UTC = datetime.UTC
SCHEDULE = re.compile(r"^(Schedule|Change the time)$")


@pytest.fixture
def signed_in(browser, live_server):
    """The cookies of a member of staff who has signed in (with two-factor), to open pages in
    browsers with different locales without signing in, and reusing a code, again."""
    staff = StaffFactory()
    context = browser.new_context(base_url=live_server.url)
    log_in(context.new_page(), staff.email, PASSWORD)
    state = context.storage_state()
    context.close()
    return state


@contextlib.contextmanager
def browser_page(browser, live_server, signed_in, locale):
    context = browser.new_context(base_url=live_server.url, locale=locale, storage_state=signed_in)
    try:
        page = context.new_page()
        yield page
        # The browser really is set to the locale (its own date boxes would follow it).
        assert page.evaluate("navigator.language") == locale
    finally:
        context.close()


def test_officer_start_date_is_the_same_british_date_in_american_and_british_browsers(
    browser, live_server, signed_in
):
    group = CouncilGroupFactory()
    CouncillorFactory(council=group.council, user__full_name="Ann Archer")
    CouncillorFactory(council=group.council, user__full_name="Bea Baker")
    today = date_display(timezone.localdate())
    appointments = [
        ("en-US", "Leader", "Ann Archer", "07/12/2026"),
        ("en-GB", "Secretary", "Bea Baker", "7 December 2026"),
    ]
    for locale, office, name, typed in appointments:
        with browser_page(browser, live_server, signed_in, locale) as page:
            page.goto(f"/regions/groups/{group.pk}/officers/")
            start = page.get_by_label("Start date")
            assert start.get_attribute("type") == "text"
            assert start.input_value() == today
            assert page.locator("#id_start_date_helptext").inner_text().endswith(DATE_HINT)
            if locale == "en-GB":
                # The officer appointed in the American browser, as the British one shows it.
                card = page.locator(".officer-list li", has_text="Ann Archer")
                assert "From 7 Dec 2026" in card.inner_text()
                assert card.get_by_label("Term ends on").input_value() == today
            assert_accessible(page)

            page.get_by_label("Office").select_option(label=office)
            page.get_by_label("Councillor").select_option(label=name)
            start.fill(typed)
            with page.expect_navigation():
                page.get_by_role("button", name="Appoint").click()
            assert page.get_by_text(f"{name} is now {office.lower()}.").is_visible()
            officer = GroupOfficer.objects.get(group=group, role=office.lower())
            assert (officer.user.full_name, officer.start_date) == (name, DECEMBER_7)


def test_send_at_is_the_same_british_date_and_24_hour_time_in_american_and_british_browsers(
    browser, live_server, signed_in
):
    CouncilGroupFactory()
    mailing = MailingFactory(subject="Polling day")
    year = timezone.localdate().year + 1  # a time in the future, in winter (GMT)
    shown = {}
    for locale, typed, time in [
        ("en-US", f"07/12/{year}", "14:30"),
        ("en-GB", f"7 December {year}", "16:45"),
    ]:
        with browser_page(browser, live_server, signed_in, locale) as page:
            page.goto(mailing.get_absolute_url())
            send_at = page.get_by_role("group", name="Send at")
            date_box, time_box = send_at.get_by_label("Date"), send_at.get_by_label("Time")
            assert {date_box.get_attribute("type"), time_box.get_attribute("type")} == {"text"}
            if locale == "en-GB":
                # What the American browser scheduled, shown the same way here.
                assert (date_box.input_value(), time_box.input_value()) == shown["en-US"]
            assert_accessible(page)

            date_box.fill(typed)
            time_box.fill(time)
            with page.expect_navigation():
                page.get_by_role("button", name=SCHEDULE).click()
            status = page.locator("#mailing-status").inner_text()
            assert status == f"Scheduled for 7 December {year}, {time}"
            hour, minute = map(int, time.split(":"))
            mailing.refresh_from_db()
            assert mailing.status == Mailing.Status.SCHEDULED
            assert mailing.scheduled_for == datetime.datetime(year, 12, 7, hour, minute, tzinfo=UTC)
            # The form offers to change the time, showing the one it is scheduled for.
            send_at = page.get_by_role("group", name="Send at")
            shown[locale] = (
                send_at.get_by_label("Date").input_value(),
                send_at.get_by_label("Time").input_value(),
            )
            assert shown[locale] == (f"7 December {year}", time)


def test_an_american_date_is_refused_with_a_british_example(browser, live_server, signed_in):
    group = CouncilGroupFactory()
    CouncillorFactory(council=group.council, user__full_name="Ann Archer")
    with browser_page(browser, live_server, signed_in, "en-US") as page:
        page.goto(f"/regions/groups/{group.pk}/officers/")
        page.get_by_label("Councillor").select_option(label="Ann Archer")
        page.get_by_label("Start date").fill("12/31/2026")
        with page.expect_navigation():
            page.get_by_role("button", name="Appoint").click()
        error = page.locator("#id_start_date_error")
        assert error.inner_text() == DATE_DAY_FIRST
        assert page.get_by_label("Start date").input_value() == "12/31/2026"
        assert_accessible(page)
    assert not GroupOfficer.objects.filter(group=group).exists()
