"""The person signed in is loaded with their roles in one query (UserManager.get_with_roles):
the same answers as asking for each role on its own, on the day it is asked."""

import datetime

import pytest
import time_machine
from django.utils import timezone
from factories import CouncillorFactory, RepresentativeFactory, StaffFactory, UserFactory

from members.models import User

pytestmark = pytest.mark.django_db


def _both(user):
    """The roles as loaded for a request, and as asked one by one."""
    loaded = User.objects.get_with_roles(user.pk)
    asked = User.objects.get(pk=user.pk)
    return [
        (
            person.is_national_staff,
            person.represented_region_ids,
            person.is_councillor,
            person.has_two_factor,
        )
        for person in (loaded, asked)
    ]


@pytest.mark.parametrize(
    "make",
    [
        lambda: UserFactory(),
        lambda: StaffFactory(),
        lambda: CouncillorFactory().user,
        lambda: RepresentativeFactory().user,
    ],
    ids=["nobody", "staff", "councillor", "representative"],
)
def test_each_role_is_read_as_asking_for_it_would(make):
    loaded, asked = _both(make())
    assert loaded == asked


def test_an_appointment_counts_from_its_first_day_to_the_day_before_its_end():
    today = timezone.localdate()
    rep = RepresentativeFactory(
        start_date=today + datetime.timedelta(days=1),
        end_date=today + datetime.timedelta(days=3),
    )
    assert User.objects.get_with_roles(rep.user_id).represented_region_ids == frozenset()
    for days, expected in [(1, {rep.region_id}), (2, {rep.region_id}), (3, set())]:
        with time_machine.travel(today + datetime.timedelta(days=days, hours=12), tick=False):
            loaded, asked = _both(rep.user)
            assert loaded == asked
            assert loaded[1] == expected


def test_an_unknown_id_is_nobody():
    assert User.objects.get_with_roles(987654321) is None
