"""Every page below the first level says where it sits: a breadcrumb trail from Home, each of
its links a page the reader may open, ending with the page itself.

First-level pages are those the menus lead to (Home, the lists of the service's menu, the
national office's pages, one's profile) and the pages of people not signed in (signing in,
joining, unsubscribing), which come before the portal; every other page has a trail. Two
checks: a crawl of every page each role reaches on the demo data, and a reading of every
template, so that a page no link leads to (a form's error page, say) is not forgotten."""

import re
from collections import deque
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.urls import Resolver404, resolve

from members.models import Councillor, User

pytestmark = pytest.mark.django_db

PROJECT = Path(__file__).resolve().parent.parent
SKIP_PREFIXES = ("/accounts/logout/", "/admin/", "/static/", "/media/", "/healthz", "/unsubscribe/")
SKIP_SUFFIXES = (".csv", ".json", ".pdf", ".ics", ".txt")
MAX_PAGES = 150

# URL names of the first-level pages: the menus' own entries.
FIRST_LEVEL = {
    "home",
    "my_region",
    "decisions",
    "campaigns:mailings",
    "campaigns:campaigns",
    "events:list",
    "regions:national",
    "representatives",
    "campaigns:suppressions",
    "export_log",
    "status",
    "profile",
    "search:page",
}

# Templates drawn only as first-level pages, for people not signed in, or as error pages.
TEMPLATES_WITHOUT_TRAIL = {
    "templates/403.html",
    "templates/404.html",
    "templates/status.html",
    "templates/account/login.html",
    "templates/mfa/authenticate.html",
    "templates/mfa/reauthenticate.html",
    "campaigns/templates/campaigns/campaign_list.html",
    "campaigns/templates/campaigns/mailing_list.html",
    "campaigns/templates/campaigns/suppression_list.html",
    "campaigns/templates/campaigns/unsubscribe.html",
    "campaigns/templates/campaigns/unsubscribe_done.html",
    "campaigns/templates/campaigns/unsubscribe_invalid.html",
    "campaigns/templates/campaigns/unsubscribe_test_copy.html",
    "events/templates/events/event_list.html",
    "members/templates/members/home.html",
    "members/templates/members/decisions.html",
    "members/templates/members/export_log.html",
    "members/templates/members/representatives.html",
    "members/templates/members/my_region.html",
    "members/templates/members/profile.html",
    "members/templates/members/profile_none.html",
    "members/templates/members/join.html",
    "members/templates/members/join_thanks.html",
    "members/templates/members/join_invitation.html",
    "members/templates/members/join_invitation_invalid.html",
    "members/templates/members/join_invitation_left.html",
    "regions/templates/regions/national.html",
    "search/templates/search/search.html",
}


class _Trail(HTMLParser):
    """The breadcrumb trails of a page: for each, its links and whether it ends with the current
    page (an item marked aria-current="page" that is not a link)."""

    def __init__(self):
        super().__init__()
        self.trails: list[dict] = []
        self._in_trail = self._in_current = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "nav" and attrs.get("aria-label") == "Breadcrumb":
            self._in_trail = True
            self.trails.append({"links": [], "current": None})
        elif self._in_trail and tag == "a":
            self.trails[-1]["links"].append(attrs["href"])
            self.trails[-1]["current"] = None
        elif self._in_trail and tag == "li" and attrs.get("aria-current") == "page":
            self._in_current = True
            self.trails[-1]["current"] = ""

    def handle_data(self, data):
        if self._in_current:
            self.trails[-1]["current"] += data.strip()

    def handle_endtag(self, tag):
        if tag == "li":
            self._in_current = False
        elif tag == "nav":
            self._in_trail = False


def _url_name(path: str) -> str | None:
    if path.startswith(SKIP_PREFIXES) or path.endswith(SKIP_SUFFIXES):
        return None
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return match.view_name


def _crawl(client) -> tuple[dict[str, list[str]], list[str]]:
    """Every page reached from the home page (one per URL pattern): the breadcrumb links of each
    page that has a trail, and the pages below the first level that have none."""
    seen, queue, trails, missing = set(), deque(["/"]), {}, []
    while queue and len(seen) < MAX_PAGES:
        path = queue.popleft()
        name = _url_name(path)
        if name is None or resolve(path).route in seen:
            continue
        seen.add(resolve(path).route)
        response = client.get(path)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        page = response.content.decode()
        parser = _Trail()
        parser.feed(page)
        if parser.trails:
            [trail] = parser.trails
            assert trail["links"][0] == "/", (path, trail)
            assert trail["current"], (path, "the trail does not end with the page itself")
            trails[path] = trail["links"]
        elif name not in FIRST_LEVEL:
            missing.append(path)
        for href in re.findall(r'href="([^"#]+)', page):
            url = urlsplit(href)
            if not url.netloc and url.path.startswith("/"):
                queue.append(url.path)
    assert len(seen) > 10, f"the crawl reached only {sorted(seen)}"
    return trails, missing


@pytest.mark.parametrize(
    "email",
    [
        "councillor@demo.alc.example.org",
        "rep.london@demo.alc.example.org",
        "staff@demo.alc.example.org",
    ],
)
def test_every_page_below_the_first_level_has_a_trail_of_pages_one_may_open(
    client, demo_with_requests, email
):
    client.force_login(User.objects.get(email=email))
    trails, missing = _crawl(client)
    assert missing == []
    assert len(trails) > 5, trails
    for path, links in trails.items():
        for link in links:
            assert client.get(link).status_code == 200, f"{link}, in the trail of {path}"


def test_the_trail_of_a_labour_group_page_runs_through_its_region_and_council(
    client, demo_with_requests
):
    client.force_login(User.objects.get(email="rep.london@demo.alc.example.org"))
    group = Councillor.objects.get(user__email="councillor@demo.alc.example.org").council
    page = client.get(f"/regions/groups/{group.labour_group.pk}/officers/").content.decode()
    trail = re.search(r'<nav aria-label="Breadcrumb".*?</nav>', page, re.S).group()
    texts = [t.strip() for t in re.findall(r">([^<>]+)<", trail) if t.strip()]
    assert texts == ["Home", "London", "Camden", group.labour_group.name, "Officers"]
    assert re.search(r'<li aria-current="page">\s*Officers\s*</li>', trail)


def test_staff_reach_a_region_through_regions(staff_client, gb_councils):
    page = staff_client.get("/regions/london/").content.decode()
    trail = re.search(r'<nav aria-label="Breadcrumb".*?</nav>', page, re.S).group()
    assert 'href="/regions/national/">Regions</a>' in trail
    assert re.search(r'<li aria-current="page">\s*London\s*</li>', trail)


EXTENDS_A_PAGE = re.compile(
    r'\{% extends "(base|allauth/layouts/base|(account|mfa)/base_\w+|mfa/authenticate)\.html" %\}'
)


def _pages_extending_base():
    for folder in ["templates", "members", "regions", "campaigns", "events", "search"]:
        for path in sorted((PROJECT / folder).rglob("*.html")):
            text = path.read_text()
            if EXTENDS_A_PAGE.search(text):
                yield str(path.relative_to(PROJECT)), text


def test_every_template_below_the_first_level_fills_in_its_trail():
    pages = dict(_pages_extending_base())
    assert len(pages) > 70
    without = {name for name, text in pages.items() if "{% block breadcrumbs %}" not in text}
    # Nothing missing, and nothing listed above that has since gained a trail or gone.
    assert without == TEMPLATES_WITHOUT_TRAIL
