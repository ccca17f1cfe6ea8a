"""The regions pages make a fixed number of queries, with 20 rows behind them or 2,000."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from factories import (
    CouncilFactory,
    CouncilGroupFactory,
    CouncillorFactory,
    RegionFactory,
    RepresentativeFactory,
    StaffFactory,
)
from simple_history.utils import bulk_create_with_history

from members.models import Councillor
from regions.models import Election, GroupOfficer

pytestmark = pytest.mark.django_db

MAX_QUERIES = 20
ROWS = [20, 2000]
START = datetime.date(2020, 5, 7)


@pytest.fixture
def group():
    council = CouncilFactory(region=RegionFactory(name="Region X", slug="region-x"))
    return CouncilGroupFactory(council=council)


def _bulk_councillors(council, count: int) -> list[Councillor]:
    users = get_user_model().objects.bulk_create(
        get_user_model()(email=f"member-{n}@example.org", full_name=f"Member {n}", password="!")
        for n in range(count)
    )
    return Councillor.objects.bulk_create(
        Councillor(user=user, council=council, ward=f"Ward {n}") for n, user in enumerate(users)
    )


def _past_officers(group, councillors, *, by=None) -> list[GroupOfficer]:
    """One past term of office per councillor, each a day long, with its history."""
    roles = GroupOfficer.Role.values
    officers = [
        GroupOfficer(
            group=group,
            role=roles[n % len(roles)],
            user_id=c.user_id,
            start_date=START + datetime.timedelta(days=n),
            end_date=START + datetime.timedelta(days=n),
        )
        for n, c in enumerate(councillors)
    ]
    return bulk_create_with_history(officers, GroupOfficer, default_user=by)


@pytest.mark.parametrize("rows", ROWS)
def test_group_history_page(client, group, rows, django_assert_max_num_queries):
    staff = StaffFactory()
    _past_officers(group, _bulk_councillors(group.council, rows), by=staff)
    client.force_login(staff)
    with django_assert_max_num_queries(MAX_QUERIES):
        response = client.get(reverse("regions:history", args=["group", group.pk]))
    assert response.status_code == 200
    assert "Member 0" in response.text or f"Member {rows - 1}" in response.text


@pytest.mark.parametrize("rows", ROWS)
def test_council_page(client, group, rows, django_assert_max_num_queries):
    council = group.council
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    Election.objects.bulk_create(
        Election(
            council=council,
            date=tomorrow + datetime.timedelta(days=n),
            seats_up=30,
            labour_seats_up=12,
        )
        for n in range(rows)
    )
    _bulk_councillors(council, rows)
    client.force_login(CouncillorFactory(council=council).user)
    with django_assert_max_num_queries(MAX_QUERIES):
        response = client.get(reverse("regions:council", args=[council.slug]))
    assert response.status_code == 200
    assert len(response.context["council"].upcoming_elections) == rows


@pytest.mark.parametrize("rows", ROWS)
def test_group_officers_page(client, group, rows, django_assert_max_num_queries):
    councillors = _bulk_councillors(group.council, rows)
    _past_officers(group, councillors)
    for role, holder in zip(GroupOfficer.Role.values, councillors, strict=False):
        GroupOfficer.objects.create(group=group, role=role, user_id=holder.user_id)
    rep = RepresentativeFactory(region=group.council.region).user
    client.force_login(rep)
    with django_assert_max_num_queries(MAX_QUERIES):
        response = client.get(reverse("regions:group_officers", args=[group.pk]))
    assert response.status_code == 200
    assert len(response.context["current_officers"]) == len(GroupOfficer.Role.values)
    # Every serving councillor of the council may be appointed.
    assert response.text.count("<option") >= rows
