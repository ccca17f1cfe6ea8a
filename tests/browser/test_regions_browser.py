"""Representatives run their region's groups in a real browser, and the pages pass axe-core."""

import pytest
from accessibility import assert_accessible
from browsing import log_in
from factories import PASSWORD, CouncillorFactory, RepresentativeFactory, StaffFactory

from regions.models import CouncilGroup, GroupOfficer, Region

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in(page, user):
    log_in(page, user.email, PASSWORD)


@pytest.fixture
def wales_rep(gb_councils):
    return RepresentativeFactory(region=Region.objects.get(slug="wales")).user


@pytest.fixture
def cardiff_group(gb_councils):
    return CouncilGroup.objects.get(council__slug="cardiff")


def test_wales_rep_cannot_open_a_london_group(page, wales_rep):
    london_group = CouncilGroup.objects.filter(council__region__slug="london").first()
    _log_in(page, wales_rep)
    response = page.goto(london_group.get_absolute_url())
    assert response.status == 404
    assert london_group.name not in page.content()


def test_rep_edits_contact_address_and_appoints_a_leader(page, wales_rep, cardiff_group):
    CouncillorFactory(council=cardiff_group.council, user__full_name="Ann Archer")
    _log_in(page, wales_rep)
    page.goto(cardiff_group.get_absolute_url())

    page.get_by_role("link", name="Edit contact details").click()
    page.get_by_label("Contact email address").fill("secretary@cardiff-labour.example.org")
    page.get_by_label("Postal address").fill("City Hall\nCardiff CF10 3ND")
    page.get_by_role("button", name="Save contact details").click()
    assert page.get_by_text("The group's contact details are saved.").is_visible()
    assert page.get_by_role("link", name="secretary@cardiff-labour.example.org").is_visible()

    page.get_by_role("link", name="Appoint or end officers").click()
    page.get_by_label("Office").select_option(label="Leader")
    page.get_by_label("Councillor").select_option(label="Ann Archer")
    page.get_by_label("Start date").fill("2026-05-11")
    page.get_by_role("button", name="Appoint").click()
    assert page.get_by_text("Ann Archer is now leader.").is_visible()

    leader = GroupOfficer.objects.get(group=cardiff_group, role="leader")
    assert leader.user.full_name == "Ann Archer"
    cardiff_group.refresh_from_db()
    assert cardiff_group.postal_address == "City Hall\nCardiff CF10 3ND"


@pytest.mark.parametrize("width", [1280, 320])
def test_region_pages_are_accessible(page, wales_rep, cardiff_group, width):
    CouncillorFactory(council=cardiff_group.council, user__full_name="Ann Archer")
    page.set_viewport_size({"width": width, "height": 800})
    _log_in(page, wales_rep)
    for path in [
        "/regions/wales/",
        "/regions/wales/?sort=up&order=desc&election_on=nonsense",
        cardiff_group.get_absolute_url(),
        f"/regions/groups/{cardiff_group.pk}/edit/",
        f"/regions/groups/{cardiff_group.pk}/officers/",
    ]:
        page.goto(path)
        assert_accessible(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, path


@pytest.fixture
def london_rep(gb_councils):
    return RepresentativeFactory(region=Region.objects.get(slug="london")).user


def test_rep_filters_councils_by_control_chosen_in_plain_english(page, london_rep):
    _log_in(page, london_rep)
    page.goto("/regions/london/")
    page.get_by_label("Control").select_option(label="Labour majority")
    page.get_by_role("button", name="Filter").click()
    expected = Region.objects.get(slug="london").councils.current().filter(control="LAB").count()
    assert expected > 0
    assert page.get_by_role("table").locator("tbody tr").count() == expected
    # Every council shown is now under one control: the caption says so instead of a column.
    assert "All are under the same control: LAB." in page.locator("caption").first.inner_text()
    assert page.locator("select#id_control").input_value() == "lab_majority"
    assert_accessible(page)


def test_seats_up_chart_stays_readable_on_a_phone(page, london_rep):
    page.set_viewport_size({"width": 320, "height": 800})
    _log_in(page, london_rep)
    page.goto("/regions/london/")
    chart = page.get_by_role("region", name="Labour seats up at the next elections")
    heights = page.locator(".bar-chart .bar-label").evaluate_all(
        "labels => labels.map(label => label.getBoundingClientRect().height)"
    )
    assert heights and min(heights) >= 11, heights
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    # The chart's box scrolls sideways, by keyboard too, to show the longest bars.
    chart.focus()
    assert chart.evaluate("box => box.scrollWidth > box.clientWidth")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    # Browsers may scroll smoothly: wait for the box to move.
    page.wait_for_function("() => document.querySelector('.chart-scroll').scrollLeft > 0")


@pytest.mark.parametrize(
    ("path", "caption"),
    [
        ("/regions/national/", "Regions, with the Labour groups whose details are incomplete"),
        ("/regions/london/", "councils in London."),
    ],
)
def test_table_captions_wrap_on_a_phone(page, gb_councils, path, caption):
    page.set_viewport_size({"width": 320, "height": 800})
    _log_in(page, StaffFactory())
    page.goto(path)
    box = page.locator("caption", has_text=caption).first
    assert box.evaluate("caption => caption.closest('.table-scroll') !== null")
    left, right = box.evaluate(
        "caption => { const r = caption.getBoundingClientRect(); return [r.left, r.right]; }"
    )
    assert left >= 0 and right <= 320, (left, right)
    # It stays in view when the table is scrolled sideways.
    box.evaluate("caption => { caption.closest('.table-scroll').scrollLeft = 400; }")
    assert box.evaluate("caption => caption.getBoundingClientRect().left") >= 0


def test_a_table_wider_than_a_phone_says_it_scrolls_and_shows_its_party_codes(page, wales_rep):
    _log_in(page, wales_rep)
    page.set_viewport_size({"width": 320, "height": 800})
    page.goto("/regions/wales/")
    councils = page.locator(".table-scroll", has=page.locator("table.councils"))
    cue = councils.locator("xpath=preceding-sibling::*[1]")
    assert cue.get_attribute("class") == "scroll-cue" and cue.is_visible()
    assert cue.inner_text() == "Scroll sideways to see every column →"
    assert page.locator("p.table-note", has_text="Party codes:").is_visible()
    # Wide enough for every column: the cue goes.
    page.set_viewport_size({"width": 1900, "height": 900})
    page.wait_for_function(
        "() => !document.querySelector('table.councils').parentElement"
        ".previousElementSibling.classList.contains('scroll-cue')"
    )
    assert_accessible(page)
