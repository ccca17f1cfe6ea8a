"""The Content-Security-Policy every page is served with, pinned: our own origin only, no inline
script or style, no framing. The mailing preview frame has a stricter policy of its own."""

import pytest
from django.urls import reverse
from factories import (
    CouncilFactory,
    CouncilGroupFactory,
    CouncillorFactory,
    MailingFactory,
    RegionFactory,
    RepresentativeFactory,
    StaffFactory,
)

pytestmark = pytest.mark.django_db

SITE_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
PREVIEW_POLICY = {
    "default-src": ["'none'"],
    "style-src": ["'unsafe-inline'"],
    "img-src": ["data:"],
    "frame-ancestors": ["'self'"],
    "sandbox": [],
}
# Source keywords and schemes a policy may name; anything else would be another host.
LOCAL_SOURCES = {"'self'", "'none'", "data:"}


def parse_policy(header: str) -> dict[str, list[str]]:
    """The header as {directive: [sources]}, refusing a directive given twice (browsers would
    silently ignore the second)."""
    policy: dict[str, list[str]] = {}
    for part in header.split(";"):
        name, *sources = part.split()
        assert name not in policy, f"{name} appears twice in {header!r}"
        policy[name.lower()] = sources
    return policy


@pytest.fixture
def region():
    return RegionFactory(name="Testshire", slug="testshire")


@pytest.fixture
def group(region):
    return CouncilGroupFactory(council=CouncilFactory(region=region))


@pytest.fixture
def staff():
    return StaffFactory()


@pytest.fixture
def rep(region):
    return RepresentativeFactory(region=region).user


@pytest.fixture
def councillor(region):
    return CouncillorFactory(council=CouncilFactory(region=region)).user


def _pages(staff, rep, councillor, group):
    """(who, path) for a sample of pages: public, each role's home, and the busiest forms."""
    return [
        (None, reverse("account_login")),
        (None, "/no-such-page/"),
        (councillor, reverse("home")),
        (councillor, reverse("profile")),
        (councillor, reverse("profile_edit")),
        (rep, reverse("home")),
        (rep, reverse("regions:region", args=[group.council.region.slug])),
        (rep, reverse("regions:group", args=[group.pk])),
        (staff, reverse("home")),
        (staff, reverse("campaigns:mailing_create")),
        (staff, reverse("admin:index")),
    ]


def test_every_sampled_page_has_the_strict_site_policy(client, staff, rep, councillor, group):
    for user, path in _pages(staff, rep, councillor, group):
        client.logout()
        if user is not None:
            client.force_login(user)
        response = client.get(path)
        expected_status = 404 if path == "/no-such-page/" else 200
        assert response.status_code == expected_status, path
        header = response.headers.get("Content-Security-Policy")
        assert header, f"{path} has no Content-Security-Policy"
        assert parse_policy(header) == SITE_POLICY, f"{path}: {header}"
        assert "unsafe" not in header, path
        # Nothing in report-only mode would let a weaker policy slip through unnoticed.
        assert "Content-Security-Policy-Report-Only" not in response.headers, path


def test_site_policy_names_no_other_host_and_no_unsafe_source(client):
    header = client.get(reverse("account_login")).headers["Content-Security-Policy"]
    policy = parse_policy(header)
    for directive, sources in policy.items():
        assert set(sources) <= LOCAL_SOURCES, f"{directive} allows {sources}"
        assert not any("unsafe" in source for source in sources), directive
        assert not any("*" in source or "://" in source for source in sources), directive
    # The fallback and script/style directives allow exactly our own origin.
    for directive in ("default-src", "script-src", "style-src"):
        assert policy[directive] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] in (["'none'"], ["'self'"])
    assert policy["form-action"] == ["'self'"]


def test_pages_also_refuse_to_be_framed_by_older_browsers(client, councillor):
    client.force_login(councillor)
    assert client.get(reverse("home")).headers["X-Frame-Options"] == "DENY"


def test_mailing_preview_frame_has_its_own_sandboxed_policy(client, staff):
    mailing = MailingFactory(
        subject="Polling day",
        body="Dear {{ recipient.first_name }}, <script>alert(1)</script> good luck.",
    )
    client.force_login(staff)

    response = client.get(reverse("campaigns:mailing_preview_html", args=[mailing.pk]))

    assert response.status_code == 200
    header = response.headers["Content-Security-Policy"]
    policy = parse_policy(header)
    assert policy == PREVIEW_POLICY, header
    assert "script-src" not in policy
    assert policy["default-src"] == ["'none'"]
    assert "sandbox" in policy and policy["sandbox"] == []  # no allow-scripts, no allow-same-origin
    assert policy["frame-ancestors"] == ["'self'"]
    # Only the portal's own pages may frame it.
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"


def test_the_page_around_the_preview_keeps_the_site_policy(client, staff):
    mailing = MailingFactory()
    client.force_login(staff)

    response = client.get(reverse("campaigns:mailing_preview", args=[mailing.pk]))

    assert response.status_code == 200
    assert parse_policy(response.headers["Content-Security-Policy"]) == SITE_POLICY
    assert reverse("campaigns:mailing_preview_html", args=[mailing.pk]) in response.text
    # The frame is sandboxed by the page as well as by its own policy.
    assert 'sandbox=""' in response.text
