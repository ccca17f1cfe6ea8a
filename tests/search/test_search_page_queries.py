"""The results page makes the same few queries whether one person matches or sixty: one for
the index, one per kind of result through its access function, and the page's own (session,
roles, the menu's counts)."""

import pytest
from django.urls import reverse
from factories import CouncilFactory, CouncilGroupFactory, CouncillorFactory

pytestmark = pytest.mark.django_db

# The person's session and roles (more for a representative: their regions, two-factor), their
# scope, the index (three: it sets a planner option inside a savepoint), then councillors,
# councils and groups through their access functions; the page adds the menu's own.
PAGE_QUERIES = {"cllr_a": 10, "rep_a": 12, "staff": 11}
BOX_QUERIES = {"cllr_a": 10, "rep_a": 11, "staff": 10}


@pytest.fixture(params=[1, 60], ids=["one", "many"])
def joneses(request, world):
    """People, councils and groups called Jones in region A: one of each, or 60 people and
    five councils with their groups."""
    people, places = (1, 1) if request.param == 1 else (60, 5)
    councils = [
        CouncilFactory(region=world.region_a, name=f"Jonesborough {n} Council")
        for n in range(places)
    ]
    for council in councils:
        CouncilGroupFactory(council=council, name=f"Jonesborough {council.pk} Labour Group")
    for n in range(people):
        CouncillorFactory(council=councils[n % places], user__full_name=f"Jo Jones {n}")
    return people


@pytest.mark.parametrize("role", sorted(PAGE_QUERIES))
def test_results_page_makes_a_fixed_number_of_queries(
    client, world, joneses, role, django_assert_num_queries
):
    client.force_login(getattr(world, role))
    with django_assert_num_queries(PAGE_QUERIES[role]):
        response = client.get(reverse("search:page"), {"q": "jones"})
    assert response.status_code == 200
    text = response.content.decode()
    assert "Jo Jones 0" in text
    assert "Jonesborough 0 Council" in text


@pytest.mark.parametrize("role", sorted(BOX_QUERIES))
def test_header_results_make_a_fixed_number_of_queries(
    client, world, joneses, role, django_assert_num_queries
):
    client.force_login(getattr(world, role))
    with django_assert_num_queries(BOX_QUERIES[role]):
        response = client.get(reverse("search:box"), {"q": "jon"})
    assert response.status_code == 200
