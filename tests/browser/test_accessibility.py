"""Every page a person can reach passes axe-core, at desktop and phone widths."""

import pytest
from accessibility import assert_accessible
from browsing import log_in
from django.core.management import call_command

from members.management.commands.demo_data import DEMO_PASSWORD, DEMO_TOTP_SECRET

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(gb_councils):
    call_command("demo_data", verbosity=0)


@pytest.mark.parametrize("width", [1280, 320])
def test_login_pages_are_accessible(page, width):
    page.set_viewport_size({"width": width, "height": 800})
    for path in ["/accounts/login/", "/accounts/login/code/", "/accounts/password/reset/"]:
        page.goto(path)
        assert_accessible(page)


@pytest.mark.parametrize("width", [1280, 320])
def test_role_home_pages_are_accessible(demo, page, width):
    page.set_viewport_size({"width": width, "height": 800})
    for email, paths in [
        ("councillor@demo.alc.example.org", ["/", "/regions/london/"]),
        ("rep.wales@demo.alc.example.org", ["/", "/regions/wales/", "/regions/councils/cardiff/"]),
        ("staff@demo.alc.example.org", ["/"]),
    ]:
        page.context.clear_cookies()
        log_in(page, email, DEMO_PASSWORD, totp_secret=DEMO_TOTP_SECRET)
        for path in paths:
            page.goto(path)
            assert page.url.endswith(path), f"{email} was sent to {page.url} instead of {path}"
            assert_accessible(page)
            # Nothing is wider than the screen: a phone never scrolls sideways.
            assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_skip_link_is_first_and_moves_focus_to_main(page):
    page.goto("/accounts/login/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    assert skip.evaluate("el => el === document.activeElement")
    assert skip.is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_the_menu_folds_behind_a_button_on_a_phone_and_opens_by_keyboard(demo, page):
    page.set_viewport_size({"width": 320, "height": 700})
    log_in(page, "councillor@demo.alc.example.org", DEMO_PASSWORD)
    menu = page.get_by_role("button", name="Menu")
    profile_link = page.get_by_role("link", name="My profile")
    assert menu.get_attribute("aria-expanded") == "false"
    assert not profile_link.is_visible()

    menu.focus()
    page.keyboard.press("Enter")
    assert menu.get_attribute("aria-expanded") == "true"
    assert profile_link.is_visible()
    assert_accessible(page)

    page.set_viewport_size({"width": 1280, "height": 800})
    assert not menu.is_visible()
    assert profile_link.is_visible()
