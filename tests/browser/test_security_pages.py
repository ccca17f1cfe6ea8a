"""The pages the security rules add, in a real browser: asking a session for its second factor,
and the export log. Each passes axe-core on a desktop and on a phone and works by keyboard."""

import pytest
from accessibility import assert_accessible
from browsing import log_in
from factories import (
    PASSWORD,
    TOTP_SECRET,
    CouncillorFactory,
    RegionFactory,
    StaffFactory,
    UserFactory,
    totp_code,
)

from members.services.accounts import two_factor_enrol
from members.services.exports import export_record
from members.services.representatives import representative_appoint

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1280, 320])
def test_a_session_without_the_second_factor_is_asked_for_it_then_goes_on(page, width):
    page.set_viewport_size({"width": width, "height": 800})
    councillor = CouncillorFactory(user__email="newrep@example.org")
    log_in(page, "newrep@example.org", PASSWORD)
    # Appointed, and enrolled by the national office, while signed in as a councillor.
    two_factor_enrol(user=councillor.user, totp_secret=TOTP_SECRET)
    representative_appoint(user=councillor.user, region=RegionFactory(name="Testshire"))

    page.goto("/regions/testshire/")
    assert "/accounts/2fa/reauthenticate/" in page.url
    assert page.get_by_role("heading", level=1).inner_text() == "Enter your two-factor code"
    assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    code = page.get_by_label("Code")
    code.focus()
    page.keyboard.type(totp_code())
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/regions/testshire/")


@pytest.mark.parametrize("width", [1280, 320])
def test_the_export_log_is_accessible_and_filters_by_keyboard(page, width):
    StaffFactory(email="office@example.org")
    alice = UserFactory(full_name="Alice Exporter")
    bob = UserFactory(full_name="Bob Downloader")
    export_record(by=alice, kind="region_councillors", subject="London", rows=2400)
    export_record(by=bob, kind="mailing_report", subject="Mailing 7: Elections", rows=315)
    page.set_viewport_size({"width": width, "height": 800})
    log_in(page, "office@example.org", PASSWORD)
    page.goto("/exports/")
    assert page.get_by_role("heading", level=1).inner_text() == "Export log"
    assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    person = page.get_by_label("Person")
    person.focus()
    page.keyboard.type("Alice")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    table = page.get_by_role("table")
    assert "London" in table.inner_text() and "Mailing 7" not in table.inner_text()
    assert_accessible(page)

    page.get_by_label("From").fill("2030-01-02")
    page.get_by_label("To").fill("2030-01-01")
    with page.expect_navigation():
        page.get_by_role("button", name="Show").click()
    assert "The end date must be on or after the start date." in page.content()
    assert_accessible(page)
