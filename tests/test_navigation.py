"""The header's two menus: the service (home, one's region, decisions, mailings, campaigns,
events, and for staff the national office) and, apart from it, one's account (profile,
two-factor, email addresses, logging out)."""

from html.parser import HTMLParser

import pytest
from django.urls import reverse
from factories import (
    CouncilFactory,
    CouncillorFactory,
    ProfileChangeFactory,
    RegionFactory,
    RepresentativeFactory,
    StaffFactory,
)

from members.models import JoinRequest

pytestmark = pytest.mark.django_db


class _Menus(HTMLParser):
    """Each navigation landmark's links and buttons, by its label: (text, href, aria-current)."""

    def __init__(self):
        super().__init__()
        self.menus: dict[str, list[tuple[str, str | None, str | None]]] = {}
        self._menu = None
        self._depth = 0
        self._item = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "nav":
            if self._menu is None:
                self._menu = attrs.get("aria-label")
                self.menus[self._menu] = []
            self._depth += 1
        elif self._menu and tag in ("a", "button", "summary"):
            self._item = ["", attrs.get("href"), attrs.get("aria-current")]

    def handle_data(self, data):
        if self._item is not None:
            self._item[0] += data

    def handle_endtag(self, tag):
        if tag in ("a", "button", "summary") and self._item is not None:
            text, href, current = self._item
            self.menus[self._menu].append((" ".join(text.split()), href, current))
            self._item = None
        elif tag == "nav":
            self._depth -= 1
            if self._depth == 0:
                self._menu = None


def _menus(client, path="/"):
    response = client.get(path)
    assert response.status_code == 200
    parser = _Menus()
    parser.feed(response.content.decode())
    return parser.menus


def _texts(items):
    return [text for text, _href, _current in items if text not in ("Menu", "Account")]


ACCOUNT = ["My profile", "Two-factor", "Email addresses", "Log out"]


def test_a_councillor_has_their_region_in_the_service_menu_and_their_account_apart(client):
    councillor = CouncillorFactory()
    client.force_login(councillor.user)
    menus = _menus(client)
    assert _texts(menus["Main"]) == ["Home", "My region", "Campaigns", "Events"]
    assert ("My region", reverse("my_region"), None) in menus["Main"]
    assert _texts(menus["Your account"]) == ACCOUNT


def test_a_representative_has_a_link_to_each_region_they_represent(client):
    london, wales = RegionFactory(name="London", slug="london"), RegionFactory(name="Wales")
    rep = RepresentativeFactory(region=wales)
    RepresentativeFactory(user=rep.user, region=london)
    client.force_login(rep.user)
    menus = _menus(client)
    assert _texts(menus["Main"]) == [
        "Home",
        "London",
        "Wales",
        "Decisions",
        "Mailings",
        "Campaigns",
        "Events",
    ]
    assert ("London", london.get_absolute_url(), None) in menus["Main"]
    # No profile for someone who is not a councillor; the rest of the account is there.
    assert _texts(menus["Your account"]) == ACCOUNT[1:]

    on_wales = _menus(client, wales.get_absolute_url())["Main"]
    assert ("Wales", wales.get_absolute_url(), "page") in on_wales


def test_staff_reach_the_regions_and_keep_the_national_office_group(client):
    client.force_login(StaffFactory())
    menus = _menus(client)
    assert _texts(menus["Main"]) == [
        "Home",
        "Regions",
        "Decisions",
        "Mailings",
        "Campaigns",
        "Events",
        "National office",
        "National overview",
        "Representatives",
        "Suppression list",
        "Export log",
        "Status",
        "Django admin",
    ]
    assert ("Regions", reverse("regions:national"), None) in menus["Main"]
    assert _texts(menus["Your account"]) == ACCOUNT[1:]


def test_join_requests_are_counted_under_decisions_and_listed_from_its_page(client):
    council = CouncilFactory()
    rep = RepresentativeFactory(region=council.region)
    JoinRequest.objects.create(full_name="Ada", email="ada@example.org", council=council, ward="W")
    ProfileChangeFactory(council=council)
    client.force_login(rep.user)

    main = _menus(client)["Main"]
    assert "Decisions (2 waiting)" in _texts(main)
    assert not [text for text in _texts(main) if "Join" in text]

    decisions = client.get(reverse("decisions")).content.decode()
    assert f'<a href="{reverse("join_requests")}">Join requests</a>' in decisions
    on_join_requests = client.get(reverse("join_requests")).content.decode()
    assert '<li class="nav-current"><a href="/decisions/">Decisions' in on_join_requests


def test_the_current_page_is_marked_in_the_menus(client):
    client.force_login(CouncillorFactory().user)
    assert ("Campaigns", reverse("campaigns:campaigns"), "page") in _menus(
        client, reverse("campaigns:campaigns")
    )["Main"]
    assert ("My profile", reverse("profile"), "page") in _menus(client, reverse("profile"))[
        "Your account"
    ]
