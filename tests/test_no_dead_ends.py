"""No form leaves a person stuck: every page each role reaches by following links, on the demo
data and on a portal with its councils but no councillors yet, is read for required choice
lists with nothing to choose (a required select whose only option is the blank one). Such a
list is never shown bare: the page leaves that form out, says why, and links to the fix."""

import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.urls import Resolver404, resolve
from factories import RepresentativeFactory, StaffFactory

from members.models import User
from regions.models import Region

pytestmark = pytest.mark.django_db

SKIP_PREFIXES = ("/accounts/logout/", "/admin/", "/static/", "/media/", "/healthz", "/unsubscribe/")
SKIP_SUFFIXES = (".csv", ".json", ".pdf", ".ics")
MAX_PAGES = 150


class _Choices(HTMLParser):
    """The required selects of a page, each with how many real choices it offers."""

    def __init__(self):
        super().__init__()
        self.lists: list[tuple[str, int]] = []
        self._select = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "select":
            self._select = [attrs.get("name", "?"), "required" in attrs, 0]
        elif tag == "option" and self._select is not None and attrs.get("value"):
            self._select[2] += 1

    def handle_endtag(self, tag):
        if tag == "select" and self._select is not None:
            name, required, options = self._select
            if required:
                self.lists.append((name, options))
            self._select = None


def _pattern(path: str) -> str | None:
    if path.startswith(SKIP_PREFIXES) or path.endswith(SKIP_SUFFIXES):
        return None
    try:
        return resolve(path).route
    except Resolver404:
        return None


def _crawl(client) -> dict[str, list[str]]:
    """Every page reached from the home page (one per URL pattern): its empty choice lists."""
    seen, queue, empty = set(), deque(["/"]), {}
    while queue and len(seen) < MAX_PAGES:
        path = queue.popleft()
        pattern = _pattern(path)
        if pattern is None or pattern in seen:
            continue
        seen.add(pattern)
        response = client.get(path)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        page = response.content.decode()
        parser = _Choices()
        parser.feed(page)
        bare = [name for name, choices in parser.lists if choices == 0]
        if bare:
            empty[path] = bare
        for href in re.findall(r'href="([^"#]+)', page):
            url = urlsplit(href)
            if not url.netloc and url.path.startswith("/"):
                queue.append(url.path)
    assert len(seen) > 10, f"the crawl reached only {sorted(seen)}"
    return empty


@pytest.mark.parametrize(
    "email",
    [
        "councillor@demo.alc.example.org",
        "rep.london@demo.alc.example.org",
        "rep.wales@demo.alc.example.org",
        "staff@demo.alc.example.org",
    ],
)
def test_no_page_of_the_demo_offers_an_empty_required_choice(client, gb_councils, email):
    call_command("demo_data", verbosity=0)
    client.force_login(User.objects.get(email=email))
    assert _crawl(client) == {}


@pytest.mark.parametrize("role", ["staff", "representative"])
def test_no_page_of_a_new_portal_offers_an_empty_required_choice(client, gb_councils, role):
    """The councils are loaded, and nobody is on the portal yet but its first staff member and
    representative: every Labour group has no officers, and no council any councillor."""
    if role == "staff":
        person = StaffFactory()
    else:
        person = RepresentativeFactory(region=Region.objects.get(slug="wales")).user
    client.force_login(person)
    assert _crawl(client) == {}
