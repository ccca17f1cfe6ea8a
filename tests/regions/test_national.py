"""The national overview: every region's figures and how complete its groups' details are."""

import datetime

import pytest
from django.urls import reverse
from factories import (
    CouncilFactory,
    CouncilGroupFactory,
    CouncillorFactory,
    GroupOfficerFactory,
    RegionFactory,
    RepresentativeFactory,
)

from regions.models import Council, CouncilGroup, GroupOfficer, Region

pytestmark = pytest.mark.django_db

PAST = datetime.date(2024, 5, 2)


def test_figures_per_region_and_totals(staff_client):
    north = RegionFactory(name="North")
    south = RegionFactory(name="South")
    complete = CouncilGroupFactory(council=CouncilFactory(region=north))
    bare = CouncilGroupFactory(council=CouncilFactory(region=north), contact_email="")
    CouncilFactory(region=north)  # no Labour group
    CouncilFactory(region=north, end_date=datetime.date(2020, 4, 1))  # abolished
    CouncilGroupFactory(council=CouncilFactory(region=south), contact_email="")
    leader = CouncillorFactory(council=complete.council)
    GroupOfficerFactory(group=complete, role="leader", user=leader.user, start_date=PAST)
    GroupOfficerFactory(group=complete, role="secretary", user=leader.user, start_date=PAST)
    # A past leader of the bare group does not count as its leader.
    GroupOfficerFactory(group=bare, role="leader", start_date=PAST, end_date=PAST)
    CouncillorFactory(council=bare.council)
    CouncillorFactory(council=bare.council, left_on=PAST)  # left: not counted
    RepresentativeFactory(region=north, user__full_name="Nia North")
    RepresentativeFactory(region=north, end_date=PAST, user__full_name="Old Rep")

    response = staff_client.get(reverse("regions:national"))
    assert response.status_code == 200
    regions = {r.name: r for r in response.context["regions"]}
    n = regions["North"]
    assert (n.council_count, n.group_count, n.councillor_count) == (3, 2, 2)
    assert (n.groups_without_address, n.groups_without_leader, n.groups_without_secretary) == (
        1,
        1,
        1,
    )
    assert [rep.user.full_name for rep in n.current_representatives] == ["Nia North"]
    s = regions["South"]
    assert (s.council_count, s.group_count, s.groups_without_address) == (1, 1, 1)
    totals = response.context["totals"]
    assert totals["council_count"] == 4
    assert totals["group_count"] == 3
    assert totals["groups_without_address"] == 2
    assert totals["groups_without_leader"] == 2
    assert totals["representatives"] == 1
    assert "Nia North" in response.text and "Old Rep" not in response.text
    assert north.get_absolute_url() in response.text


def test_incomplete_counts_link_to_the_groups_behind_them(staff_client):
    north = RegionFactory(name="North", slug="north")
    CouncilGroupFactory(council=CouncilFactory(region=north), contact_email="")
    # A region with nothing missing has no link to an empty list.
    complete = RegionFactory(name="South", slug="south")
    text = staff_client.get(reverse("regions:national")).text
    assert f'href="{north.get_absolute_url()}?missing=address"' in text
    assert f'href="{north.get_absolute_url()}?missing=leader"' in text
    assert f"{complete.get_absolute_url()}?missing=" not in text


def test_staff_see_a_link_to_the_overview(staff_client):
    assert reverse("regions:national") in staff_client.get(reverse("home")).text


def _bulk_groups(rows: int):
    regions = [RegionFactory(name=f"Region {rows}-{i}") for i in range(11)]
    councils = Council.objects.bulk_create(
        Council(
            gss_code=f"N{rows:05d}{i:06d}", name=f"Council {i}", short_name=f"Council {i}",
            slug=f"national-{rows}-{i}", kind=Council.Kind.UNITARY, region=regions[i % 11],
            total_seats=40, labour_seats=10, control="LAB", election_pattern="all-out",
        )
        for i in range(rows)
    )  # fmt: skip
    groups = CouncilGroup.objects.bulk_create(
        CouncilGroup(council=c, name=f"{c.short_name} Labour Group", contact_email="")
        for c in councils
    )
    leader = CouncillorFactory(council=councils[0]).user
    GroupOfficer.objects.bulk_create(
        GroupOfficer(group=g, role="leader", user=leader, start_date=PAST) for g in groups[::2]
    )
    for region in regions:
        RepresentativeFactory(region=region)


@pytest.mark.parametrize("rows", [20, 2000])
def test_query_count_does_not_grow_with_groups(staff_client, rows, django_assert_max_num_queries):
    _bulk_groups(rows)
    with django_assert_max_num_queries(10):
        response = staff_client.get(reverse("regions:national"))
    totals = response.context["totals"]
    assert totals["group_count"] == rows
    assert totals["groups_without_address"] == rows
    assert totals["groups_without_leader"] == rows // 2
    assert len(response.context["regions"]) == Region.objects.count()
