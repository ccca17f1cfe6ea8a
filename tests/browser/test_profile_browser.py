"""A councillor keeps their profile in a real browser, and their representative approves a
change of ward."""

import pytest
from accessibility import assert_accessible
from browsing import log_in
from factories import (
    PASSWORD,
    TOTP_SECRET,
    CouncilFactory,
    CouncillorFactory,
    ErasureRequestFactory,
    LevyWaiverFactory,
    ProfileChangeFactory,
    RegionFactory,
    RepresentativeFactory,
    UserFactory,
)

from members.services.accounts import two_factor_enrol
from members.services.staff import staff_appoint

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _with_two_factor(user):
    two_factor_enrol(user=user, totp_secret=TOTP_SECRET)
    return user


@pytest.fixture
def people():
    region = RegionFactory(name="Testshire")
    councillor = CouncillorFactory(
        council=CouncilFactory(region=region, name="Testshire County Council"),
        ward="Castle",
        user__email="cllr@example.org",
    )
    rep = _with_two_factor(UserFactory(email="rep@example.org"))
    RepresentativeFactory(region=region, user=rep)
    return {"councillor": councillor, "rep": rep}


def _save(page):
    page.get_by_role("button", name="Save my profile").click()
    page.wait_for_load_state()


def test_councillor_edits_phone_and_rep_approves_ward_change(page, people):
    log_in(page, "cllr@example.org", PASSWORD)
    page.goto("/profile/edit/")
    page.get_by_label("Phone").fill("020 7946 0777")
    _save(page)
    assert page.url.endswith("/profile/")
    assert page.get_by_text("Your profile is saved.").is_visible()
    assert page.get_by_text("020 7946 0777").is_visible()

    page.goto("/profile/edit/")
    page.get_by_label("Ward").fill("Riverside")
    _save(page)
    assert page.get_by_text("Pending approval").is_visible()
    ward = page.locator("dt:has-text('Ward') + dd")
    assert ward.inner_text() == "Castle"

    page.context.clear_cookies()
    log_in(page, "rep@example.org", PASSWORD, totp_secret=TOTP_SECRET)
    page.goto("/decisions/changes/")
    row = page.get_by_role("row").filter(has_text="Riverside")
    assert people["councillor"].user.full_name in row.inner_text()
    row.get_by_role("button", name="Approve").click()
    page.wait_for_load_state()
    assert page.get_by_text("No changes are waiting.").is_visible()

    page.context.clear_cookies()
    log_in(page, "cllr@example.org", PASSWORD)
    page.goto("/profile/")
    assert ward.inner_text() == "Riverside"
    assert page.get_by_text("Approved:").is_visible()


def test_bad_phone_shows_message_next_to_the_field(page, people):
    log_in(page, "cllr@example.org", PASSWORD)
    page.goto("/profile/edit/")
    page.get_by_label("Phone").fill("not a number")
    _save(page)
    phone = page.get_by_label("Phone")
    assert phone.get_attribute("aria-invalid") == "true"
    assert "digits, spaces and + ( ) - only" in page.locator("#id_phone_error").inner_text()
    assert_accessible(page)


def test_council_search_narrows_the_list(page, people):
    CouncilFactory(name="Otherplace District Council")
    log_in(page, "cllr@example.org", PASSWORD)
    page.goto("/profile/edit/")
    page.get_by_label("Search councils").fill("otherplace")
    visible = page.locator("#id_council option:not([hidden])").all_inner_texts()
    assert "Otherplace District Council" in visible
    assert len(visible) == 2  # the match, and the council they have now
    # Only the match is counted: the council they have now is kept, not matched.
    assert page.locator("#id_council_search_status").inner_text() == "1 council matches"
    CouncilFactory(name="Otherplace Borough Council")
    page.reload()
    page.get_by_label("Search councils").fill("otherplace")
    assert page.locator("#id_council_search_status").inner_text() == "2 councils match"
    page.get_by_label("Search councils").fill("testshire")
    assert page.locator("#id_council_search_status").inner_text() == "1 council matches"
    page.get_by_label("Search councils").fill("otherplace district")
    page.get_by_label("Council", exact=True).select_option(label="Otherplace District Council")
    _save(page)
    assert page.get_by_text("Pending approval").is_visible()


@pytest.mark.parametrize("width", [1280, 320])
def test_profile_and_decision_pages_are_accessible(page, people, width):
    councillor = people["councillor"]
    change = ProfileChangeFactory(councillor=councillor, ward="Docks")
    waiver = LevyWaiverFactory(councillor=councillor)
    erasure = ErasureRequestFactory(user=councillor.user)
    staff = _with_two_factor(UserFactory(email="staff@example.org"))
    staff_appoint(user=staff)
    page.set_viewport_size({"width": width, "height": 800})
    for email, paths in [
        (
            "cllr@example.org",
            ["/profile/", "/profile/edit/", "/my-region/", "/levy-waiver/", "/my-data/",
             "/my-data/equality/", "/accounts/email/"],
        ),
        (
            "rep@example.org",
            ["/profile/", "/decisions/", "/decisions/changes/",
             f"/decisions/changes/{change.pk}/"],
        ),
        (
            "staff@example.org",
            ["/decisions/", "/decisions/waivers/", f"/decisions/waivers/{waiver.pk}/",
             "/decisions/erasures/", f"/decisions/erasures/{erasure.pk}/"],
        ),
    ]:  # fmt: skip
        page.context.clear_cookies()
        log_in(page, email, PASSWORD, totp_secret=TOTP_SECRET)
        for path in paths:
            page.goto(path)
            assert_accessible(page)
            assert page.evaluate("document.documentElement.scrollWidth") <= width, path


@pytest.mark.parametrize("width", [1280, 320])
def test_a_refused_edit_opens_on_the_error_summary_whose_link_leads_to_the_field(
    page, people, width
):
    page.set_viewport_size({"width": width, "height": 800})
    log_in(page, "cllr@example.org", PASSWORD)
    page.goto("/profile/edit/")
    page.get_by_label("Phone").fill("call me")
    _save(page)

    summary = page.locator("[data-error-summary]")
    assert summary.is_visible()
    assert page.evaluate("document.activeElement.hasAttribute('data-error-summary')")
    assert summary.locator("a[href='#id_phone']").count() == 1
    assert_accessible(page)

    summary.locator("a[href='#id_phone']").click()
    assert page.evaluate("document.activeElement.id") == "id_phone"
    assert page.locator("#id_phone_error").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
