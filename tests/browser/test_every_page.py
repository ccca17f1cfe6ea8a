"""Every page each role can reach by following links passes axe-core, on a desktop and on a
phone, and never scrolls sideways on the phone.

The crawl starts at the home page and follows same-site links (GET only), visiting one page per
URL pattern: the hundredth council page is built like the first."""

from collections import deque
from urllib.parse import urlsplit

import pytest
from accessibility import assert_accessible
from browsing import log_in
from django.urls import Resolver404, resolve

from members.management.commands.demo_data import DEMO_PASSWORD, DEMO_TOTP_SECRET

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Links that do something other than show a page: leaving, downloads, the admin (Django's own).
SKIP_PREFIXES = ("/accounts/logout/", "/admin/", "/static/", "/media/", "/healthz")
SKIP_SUFFIXES = (".csv", ".json")
MAX_PAGES = 80
# The innermost elements that stick out past the right edge of the screen, for the message.
WIDER_THAN_SCREEN = """() => [...document.querySelectorAll('body *')]
    .filter(el => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
    .filter(el => ![...el.children].some(c => c.getBoundingClientRect().right >
                                          document.documentElement.clientWidth + 1))
    .slice(0, 5).map(el => el.tagName + '.' + el.className + ' ' + el.textContent.slice(0, 40))"""


def _pattern(path: str) -> str | None:
    """The URL pattern behind a path, or None when it is not one of ours to crawl."""
    if path.startswith(SKIP_PREFIXES) or path.endswith(SKIP_SUFFIXES):
        return None
    try:
        match = resolve(path)
    except Resolver404:
        return None
    if match.url_name in ("export_councillors", "export_groups") or "download" in match.url_name:
        return None
    return match.route


def _crawl(page, width: int) -> list[str]:
    seen_patterns: set[str] = set()
    queue = deque(["/"])
    visited = []
    while queue and len(visited) < MAX_PAGES:
        path = queue.popleft()
        pattern = _pattern(path)
        if pattern is None or pattern in seen_patterns:
            continue
        seen_patterns.add(pattern)
        response = page.goto(path)
        if response is None or response.status != 200 or urlsplit(page.url).path != path:
            continue  # refused or redirected: the target is crawled in its own right
        visited.append(path)
        assert_accessible(page)
        assert page.evaluate("document.documentElement.scrollWidth") <= width, (
            path,
            page.evaluate(WIDER_THAN_SCREEN),
        )
        hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
        for href in hrefs:
            url = urlsplit(href)
            if url.netloc == urlsplit(page.url).netloc and url.path not in queue:
                queue.append(url.path)
    return visited


@pytest.mark.parametrize("width", [1280, 320])
@pytest.mark.parametrize(
    ("email", "must_reach"),
    [
        ("councillor@demo.alc.example.org", ["/profile/", "/campaigns/"]),
        ("rep.wales@demo.alc.example.org", ["/regions/wales/"]),
        ("staff@demo.alc.example.org", ["/regions/national/", "/campaigns/mailings/"]),
    ],
)
def test_every_page_a_role_can_reach_is_accessible(
    demo_with_requests, page, width, email, must_reach
):
    page.set_viewport_size({"width": width, "height": 800})
    log_in(page, email, DEMO_PASSWORD, totp_secret=DEMO_TOTP_SECRET)
    visited = _crawl(page, width)
    for path in must_reach:
        assert path in visited, f"{path} not reached from the home page; visited {visited}"
