"""Who finds what: every role searches for people, councils, groups, a mailing and a campaign
inside and outside their view. Outside it, the results page and the header box's results say
nothing about the object: not its name, not a link, not a count."""

import datetime
import re

import pytest
from django.urls import reverse

from search.results import search_for

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "cllr_a", "cllr_b", "rep_a", "rep_b", "staff", "former_cllr_a", "ended_rep_a"]
A_VIEWERS = {"cllr_a", "rep_a", "staff"}
A_MANAGERS = {"rep_a", "staff"}
B_VIEWERS = {"cllr_b", "rep_b", "staff"}

# (what is typed, the name it must find, who may find it)
MATRIX = [
    ("Quillfeather", "Zebedee Quillfeather", A_VIEWERS),
    ("zebedee quilfeather", "Zebedee Quillfeather", A_VIEWERS),  # a typo
    ("Marshgate", "Zebedee Quillfeather", A_VIEWERS),  # the ward
    ("zebedee.quillfeather@example.org", "Zebedee Quillfeather", A_MANAGERS),
    ("zebedee.quillfeather@", "Zebedee Quillfeather", A_MANAGERS),
    ("01632 960111", "Zebedee Quillfeather", A_MANAGERS),
    ("Brackenridge", "Yolanda Brackenridge", B_VIEWERS),
    ("Tollbar", "Yolanda Brackenridge", B_VIEWERS),
    ("yolanda.brackenridge@example", "Yolanda Brackenridge", {"rep_b", "staff"}),
    ("Dovecote", "Xanthe Dovecote", A_MANAGERS),  # left the council
    ("Vantablack", "Ulrika Vantablack", {"staff"}),  # no councillor profile
    ("Ashbourne Borough", "Ashbourne Borough Council", A_VIEWERS),
    ("E07000911", "Ashbourne Borough Council", A_VIEWERS),
    ("Ashbourne Labour", "Ashbourne Labour Group", A_VIEWERS),
    ("Bramcote", "Bramcote District Council", B_VIEWERS),
    ("Bramcot Labour", "Bramcote Labour Group", B_VIEWERS),
    ("zephyr", "Quarterly zephyr bulletin", {"staff"}),
    ("Clean rivers", "Clean Rivers Pledge", {"staff"}),
]
CASES = [(role, query, name, role in finders) for role in ROLES for query, name, finders in MATRIX]


def _client(client, world, role):
    if role != "anonymous":
        client.force_login(getattr(world, role))
    return client


@pytest.mark.parametrize(("role", "query", "name", "finds"), CASES)
def test_search_finds_only_what_the_role_may_see(client, world, role, query, name, finds):
    client = _client(client, world, role)
    for view in ("search:page", "search:box"):
        response = client.get(reverse(view), {"q": query})
        if role == "anonymous":
            assert response.status_code == 302
            assert response.url.startswith(reverse("account_login"))
            continue
        assert response.status_code == 200
        text = response.content.decode()
        if finds:
            assert name in text
        else:
            assert name not in text
            assert "No results for" in text
            assert not re.search(r"\d+\+? results?:", text)


@pytest.mark.parametrize("role", ROLES[1:])
def test_every_result_links_to_a_page_its_finder_may_open(client, world, role):
    client = _client(client, world, role)
    user = getattr(world, role)
    for query, _name, _finders in MATRIX:
        for group in search_for(user, query, per_kind=20).groups:
            for result in group.results:
                if result.url and not result.url.startswith("/admin/"):
                    assert client.get(result.url).status_code == 200, (query, result)


def _person_link(world, user, query):
    [group] = search_for(user, query, per_kind=20).groups
    [result] = group.results
    return result.url


def test_a_councillor_is_sent_to_the_list_a_colleague_is_on(world):
    url = _person_link(world, world.cllr_a, "Quillfeather")
    assert url == reverse("council_councillors", args=["ashbourne"])


def test_a_representative_and_staff_are_sent_to_the_profile(world):
    edit = reverse("councillor_edit", args=["ashbourne", world.zebedee.pk])
    assert _person_link(world, world.rep_a, "Quillfeather") == edit
    assert _person_link(world, world.staff, "Quillfeather") == edit
    assert _person_link(world, world.rep_a, "Dovecote").startswith("/councils/ashbourne/")


def test_a_councillor_finding_themself_is_sent_to_their_profile(world):
    assert _person_link(world, world.cllr_a, "Ann Searcher") == reverse("profile")


def test_staff_find_people_without_a_profile_in_the_admin(world):
    url = _person_link(world, world.staff, "Vantablack")
    assert url == reverse("admin:members_user_change", args=[world.office_only.pk])


def test_a_colleague_is_not_found_by_their_contact_details(world):
    for query in ("zebedee.quillfeather@example.org", "01632960111", "960111"):
        assert search_for(world.cllr_a, query, per_kind=20).total == 0
        assert search_for(world.rep_a, query, per_kind=20).total == 1


def test_a_councillor_who_leaves_is_no_longer_found_by_colleagues(world):
    from members.services.councillors import councillor_mark_left

    assert search_for(world.cllr_a, "Quillfeather", per_kind=20).total == 1
    councillor_mark_left(
        councillor=world.zebedee, left_on=datetime.date(2025, 1, 6), by=world.rep_a
    )
    assert search_for(world.cllr_a, "Quillfeather", per_kind=20).total == 0
    assert search_for(world.rep_a, "Quillfeather", per_kind=20).total == 1


def test_the_count_counts_only_what_may_be_seen(world):
    """Both councillors are called Searcher; each councillor finds only their own colleague."""
    assert search_for(world.cllr_a, "Searcher", per_kind=20).summary == "1 result: 1 person"
    assert search_for(world.staff, "Searcher", per_kind=20).summary == "2 results: 2 people"
