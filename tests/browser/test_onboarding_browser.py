"""Joining, approving and importing in a real browser, checked with axe-core."""

import pytest
from accessibility import assert_accessible
from browsing import log_in
from factories import (
    PASSWORD,
    CouncilFactory,
    CouncillorFactory,
    RegionFactory,
    RepresentativeFactory,
)

from members.models import Councillor, JoinRequest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def council():
    return CouncilFactory(
        region=RegionFactory(name="Region X", slug="region-x"),
        name="Oakfield Borough Council",
        short_name="Oakfield",
        gss_code="E0600001",
        slug="oakfield",
    )


def assert_fits(page, width):
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("width", [1280, 320])
def test_join_then_rep_approves(page, council, width):
    page.set_viewport_size({"width": width, "height": 800})
    page.goto("/join/")
    assert_accessible(page)
    assert_fits(page, width)

    page.get_by_label("Full name").fill("Grace Hopper")
    page.get_by_label("Council").fill("Oakfield Borough Council")
    page.get_by_label("Ward or division").fill("Riverside")
    page.get_by_label("Email address").fill("grace@example.org")
    page.get_by_role("button", name="Send my request").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == "Thank you"
    assert JoinRequest.objects.filter(email="grace@example.org", status="pending").exists()

    rep = RepresentativeFactory(region=council.region)
    log_in(page, rep.user.email, PASSWORD)
    page.goto("/join-requests/")
    assert_accessible(page)
    assert_fits(page, width)
    page.get_by_role("button", name="Approve Grace Hopper").click()
    page.wait_for_load_state()
    assert "invitation is on its way" in page.locator(".messages").inner_text()
    assert Councillor.objects.filter(user__email="grace@example.org", council=council).exists()


def test_join_form_shows_errors_next_to_fields(page, council):
    page.goto("/join/")
    page.get_by_label("Email address").fill("not-an-email")
    page.get_by_role("button", name="Send my request").click()
    page.wait_for_load_state()
    assert page.get_by_label("Email address").get_attribute("aria-invalid") == "true"
    assert page.locator("#id_email_error").is_visible()
    assert_accessible(page)


@pytest.mark.parametrize("width", [1280, 320])
def test_import_preview_and_councillor_list_are_accessible(page, council, tmp_path, width):
    page.set_viewport_size({"width": width, "height": 800})
    CouncillorFactory(council=council, user__full_name="Ada Lovelace")
    rep = RepresentativeFactory(region=council.region)
    log_in(page, rep.user.email, PASSWORD)

    page.goto("/councils/oakfield/councillors/")
    assert_accessible(page)
    assert_fits(page, width)

    csv_file = tmp_path / "councillors.csv"
    csv_file.write_text(
        "full_name,email,council,ward\n"
        "Mary Seacole,mary@example.org,E0600001,South\n"
        "Bad Row,not-an-email,Nowhere,South\n"
    )
    page.goto("/import/region-x/")
    assert_accessible(page)
    page.get_by_label("CSV file").set_input_files(str(csv_file))
    page.get_by_role("button", name="Check the file").click()
    page.wait_for_load_state()
    assert "1 row with errors" in page.locator("main").inner_text()
    assert page.get_by_role("button", name="Import").count() == 0
    assert_accessible(page)


def test_import_rows_at_320px_keep_names_whole_and_errors_in_view(page, council, tmp_path):
    page.set_viewport_size({"width": 320, "height": 800})
    rep = RepresentativeFactory(region=council.region)
    log_in(page, rep.user.email, PASSWORD)
    csv_file = tmp_path / "councillors.csv"
    csv_file.write_text(
        "full_name,email,council,ward\n"
        "Eamon Royle,eamon.royle@example.org,E0600001,Canonbury\n"
        "Fatima Qureshi,fatima.qureshi@example,E0600001,Dalston\n"
    )
    page.goto("/import/region-x/")
    page.get_by_label("CSV file").set_input_files(str(csv_file))
    page.get_by_role("button", name="Check the file").click()
    page.wait_for_load_state()
    assert_accessible(page)

    # Each word of a name stays on one line.
    for word in ("Eamon", "Royle", "Fatima", "Qureshi"):
        lines = page.evaluate(
            """word => {
                const cell = [...document.querySelectorAll("td")].find(
                    td => td.textContent.includes(word) && !td.textContent.includes("@"));
                const text = [...cell.childNodes].find(n => n.textContent.includes(word));
                const range = document.createRange();
                const start = text.textContent.indexOf(word);
                range.setStart(text, start);
                range.setEnd(text, start + word.length);
                return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size;
            }""",
            word,
        )
        assert lines == 1, word
    # The row's error is on screen, not in a column beyond its right edge.
    error = page.locator(".row-errors li").first
    box = error.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 320
    assert "email" in error.inner_text().lower()
    assert_fits(page, 320)
