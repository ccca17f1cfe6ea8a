"""Each role's home page, on the demo data, on a desktop and on a phone: every count links to a
page listing exactly that many things, and a councillor's missing profile details go from the
list once filled in."""

from urllib.parse import urlsplit

import pytest
from accessibility import assert_accessible
from browsing import log_in
from django.core.management import call_command
from django.utils import timezone
from factories import CouncillorFactory, MailingFactory, SuppressionFactory

from campaigns.models import Mailing
from members.management.commands.demo_data import DEMO_PASSWORD, DEMO_TOTP_SECRET
from members.models import Councillor, JoinRequest, User
from regions.models import Council, Region

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Where each kind of page lists its things, by the start of its path.
LISTS = [
    ("/invitations/region/", "#not-signed-in tbody tr"),
    ("/regions/", "table.councils tbody tr"),
    ("/join-requests/", "table:has(#pending-caption) tbody tr"),
    ("/decisions/", "table:has(#pending-caption) tbody tr"),
    ("/campaigns/mailings/", "main table tbody tr"),
    ("/campaigns/suppressions/", "#suppressions tbody tr"),
    ("/campaigns/", ".campaign-list > li"),
]


@pytest.fixture
def demo(gb_councils):
    call_command("demo_data", verbosity=0)
    london = Region.objects.get(slug="london")
    camden = Council.objects.get(gss_code="E09000007")
    staff = User.objects.get(email="staff@demo.alc.example.org")
    for n in range(2):
        JoinRequest.objects.create(
            full_name=f"Joiner {n}", email=f"joiner{n}@example.org", council=camden, ward="W"
        )
    MailingFactory(owner_region=london, created_by=staff, status=Mailing.Status.AWAITING_APPROVAL)
    MailingFactory(owner_region=london, created_by=staff, status=Mailing.Status.SCHEDULED)
    SuppressionFactory(reason="bounced", created_at=timezone.now())


def _listed(page, href) -> int:
    path = urlsplit(href).path
    selector = next(selector for start, selector in LISTS if path.startswith(start))
    page.goto(href)
    return page.locator(selector).count()


def _counts(page) -> list[tuple[int, str]]:
    """(the number shown, where it links) for every count on the page."""
    return page.eval_on_selector_all(
        "li.task > a:has(.task-count), #region-queues td a",
        "links => links.map(a => [parseInt(a.textContent.replace(/,/g, '')), a.href])",
    )


def _home(page, email, width):
    page.set_viewport_size({"width": width, "height": 800})
    log_in(page, email, DEMO_PASSWORD, totp_secret=DEMO_TOTP_SECRET)
    page.goto("/")
    assert_accessible(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("width", [1280, 320])
@pytest.mark.parametrize(
    ("email", "headings"),
    [
        ("rep.london@demo.alc.example.org", ["Waiting for your decision", "Your region: London"]),
        (
            "staff@demo.alc.example.org",
            ["Waiting for your decision", "Mailings", "Regions without a representative"],
        ),
    ],
)
def test_every_count_on_a_home_page_lists_exactly_that_many(demo, page, width, email, headings):
    _home(page, email, width)
    for heading in headings:
        assert page.get_by_role("heading", name=heading).is_visible()
    counts = _counts(page)
    assert counts, "the demo data leaves nothing to do?"
    if width == 320:
        counts = [c for c in counts if "/regions/" not in urlsplit(c[1]).path][:8]
    for number, href in counts:
        assert _listed(page, href) == number, href


def test_staff_appoint_a_representative_from_the_home_page(demo, page):
    south_east = Region.objects.get(slug="south-east")
    CouncillorFactory(
        council=Council.objects.current().filter(region=south_east).first(),
        user__full_name="Sasha Southeast",
    )
    _home(page, "staff@demo.alc.example.org", 1280)
    regions = page.locator("#regions-without-representative > li")
    assert regions.count() == 9  # London and Wales have theirs
    page.get_by_role("link", name="Appoint a representative for South East").click()
    page.wait_for_load_state()
    assert_accessible(page)
    choice = page.get_by_label("Who to appoint")
    choice.select_option(label=choice.locator("option", has_text="Sasha Southeast").inner_text())
    page.get_by_role("button", name="Appoint").click()
    page.wait_for_load_state()
    assert page.get_by_text("Sasha Southeast is now a representative for South East").is_visible()
    assert regions.count() == 8
    assert page.get_by_role("link", name="Appoint a representative for South East").count() == 0


@pytest.mark.parametrize("width", [1280, 320])
def test_a_councillor_sees_what_their_profile_lacks_until_they_fill_it_in(demo, page, width):
    councillor = Councillor.objects.get(user__email="councillor@demo.alc.example.org")
    councillor.phone = ""
    councillor.save()
    _home(page, "councillor@demo.alc.example.org", width)
    gaps = page.locator("#profile-gaps")
    shown = int(gaps.locator(".task-count").inner_text())
    assert gaps.locator("ul > li").count() == shown
    assert page.get_by_role("link", name="Turn on two-factor sign-in").is_visible()

    gaps.get_by_role("link", name="Add a phone number").click()
    page.wait_for_load_state()
    page.get_by_label("Phone").fill("020 7946 0000")
    page.get_by_role("button", name="Save my profile").click()
    page.wait_for_load_state()
    page.goto("/")
    assert page.get_by_role("link", name="Add a phone number").count() == 0
    if shown > 1:
        assert int(page.locator("#profile-gaps .task-count").inner_text()) == shown - 1
    else:
        assert page.get_by_text("Your profile has every detail filled in.").is_visible()
    for number, href in _counts(page):
        if "/profile/" not in href:
            assert _listed(page, href) == number, href
