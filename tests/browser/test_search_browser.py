"""Find anyone in a real browser: the header's search box by keyboard on a phone-sized screen,
and the results page with axe-core."""

import pytest
from accessibility import assert_accessible
from browsing import log_in
from factories import (
    PASSWORD,
    CouncilFactory,
    CouncilGroupFactory,
    CouncillorFactory,
    RegionFactory,
    RepresentativeFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def wales(db):
    region = RegionFactory(name="Wales", slug="wales")
    council = CouncilFactory(
        region=region, name="Cardiff Council", short_name="Cardiff", slug="cardiff"
    )
    CouncilGroupFactory(council=council, name="Cardiff Labour Group")
    CouncillorFactory(council=council, user__full_name="Siân ap Gwilym", ward="Canton")
    CouncillorFactory(council=council, user__full_name="Gwilym Evans", ward="Riverside")
    CouncillorFactory(council=council, user__full_name="Rhiannon Prys", ward="Cathays")
    return RepresentativeFactory(region=region).user


def test_rep_finds_a_colleague_from_the_header_by_keyboard_on_a_phone(page, wales):
    page.set_viewport_size({"width": 320, "height": 700})
    log_in(page, wales.email, PASSWORD)
    box = page.get_by_role("combobox", name="Find anyone")
    box.focus()
    page.keyboard.type("rhi")

    listbox = page.get_by_role("listbox")
    option = listbox.get_by_role("option", name="Rhiannon Prys")
    option.wait_for()
    assert page.locator("#site-search-status").text_content() == "1 result: 1 person"
    assert box.get_attribute("aria-expanded") == "true"
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    assert_accessible(page)

    page.keyboard.press("ArrowDown")
    assert box.get_attribute("aria-activedescendant") == option.get_attribute("id")
    assert option.get_attribute("aria-selected") == "true"
    assert box.evaluate("el => el === document.activeElement")
    page.keyboard.press("Enter")
    page.wait_for_url("**/councils/cardiff/councillors/*/edit/")
    assert page.get_by_label("Ward").input_value() == "Cathays"


def test_enter_without_choosing_opens_the_results_page(page, wales):
    log_in(page, wales.email, PASSWORD)
    box = page.get_by_role("combobox", name="Find anyone")
    box.fill("gwilym")
    page.get_by_role("listbox").get_by_role("option", name="Gwilym Evans").wait_for()
    box.press("Enter")
    page.wait_for_url("**/search/?q=gwilym")
    people = page.get_by_role("region", name="People")
    assert people.get_by_role("link", name="Siân ap Gwilym").is_visible()
    assert people.get_by_role("link", name="Gwilym Evans").is_visible()


@pytest.mark.parametrize("width", [1280, 320])
def test_the_results_page_is_accessible(page, wales, width):
    page.set_viewport_size({"width": width, "height": 800})
    log_in(page, wales.email, PASSWORD)
    for query in ["", "cardiff", "sian", "nobody-at-all", "x"]:
        page.goto(f"/search/?q={query}")
        assert page.get_by_role("heading", name="Find anyone").is_visible()
        assert_accessible(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, query
