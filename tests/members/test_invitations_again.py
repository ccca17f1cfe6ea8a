"""Who has signed in yet, on a representative's councillor lists, and invitations sent again in
bulk to those who have not: once each, never twice in a few minutes, never to anyone else."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from factories import CouncilFactory, CouncillorFactory, RegionFactory, RepresentativeFactory

from members.access import councillors_managed_by
from members.models import Decision, JoinRequest, Notice
from members.services.invitations import invitations_resend

pytestmark = pytest.mark.django_db

NOW = timezone.now()


@pytest.fixture
def region():
    return RegionFactory(name="Region X", slug="region-x")


@pytest.fixture
def council(region):
    return CouncilFactory(region=region, name="Oakfield Borough Council", slug="oakfield")


@pytest.fixture
def rep(region):
    return RepresentativeFactory(region=region).user


def _waiting(council, email, invited_days_ago=None):
    """A councillor who has never signed in, invited so many days ago (or never)."""
    councillor = CouncillorFactory(council=council, user__email=email)
    councillor.user.set_unusable_password()
    councillor.user.save()
    if invited_days_ago is not None:
        sent = NOW - datetime.timedelta(days=invited_days_ago)
        JoinRequest.objects.create(
            full_name="", email=email, council=council, ward="", status=Decision.APPROVED,
            asked_to_join=False, decided_at=sent, invited_at=sent,
        )  # fmt: skip
    return councillor


def _invitations_to(email):
    return Notice.objects.filter(kind="invitation", to_email=email).count()


@pytest.fixture
def people(council):
    active = CouncillorFactory(council=council, user__email="active@example.org")
    active.user.last_login = NOW - datetime.timedelta(days=2)
    active.user.save()
    return {
        "active": active,
        "never": _waiting(council, "never@example.org"),
        "fresh": _waiting(council, "fresh@example.org", invited_days_ago=3),
        "expired": _waiting(council, "expired@example.org", invited_days_ago=30),
        "left": CouncillorFactory(
            council=council, user__email="left@example.org", left_on=datetime.date(2026, 5, 1)
        ),
    }


def test_the_list_shows_who_has_signed_in_and_each_invitations_state(client, rep, people):
    client.force_login(rep)
    page = client.get(reverse("council_councillors", args=["oakfield"])).text
    assert "Signed in: last signed in" in page
    assert "Not yet invited" in page
    assert "Invited on" in page and "the link works until" in page
    assert "Invitation expired (sent" in page
    assert "Send invitations again to the 3 not yet signed in" in page


def test_colleagues_see_no_sign_in_column(client, people, council):
    client.force_login(people["active"].user)
    page = client.get(reverse("council_councillors", args=["oakfield"])).text
    assert "Signed in" not in page and "Not yet invited" not in page


def test_invitations_go_once_to_each_councillor_not_yet_signed_in(client, rep, people):
    client.force_login(rep)
    url = reverse("council_invitations_resend", args=["oakfield"])
    confirm = client.get(url).text
    assert "3 serving councillors on Oakfield Borough Council have yet to sign in" in confirm
    response = client.post(url, follow=True)
    assert "Invitations are on their way to 3 councillors" in response.text
    for name in ("never", "fresh", "expired"):
        assert _invitations_to(f"{name}@example.org") == 1, name
    assert _invitations_to("active@example.org") == 0
    assert _invitations_to("left@example.org") == 0
    # Asked again at once (a double click, another representative): nothing more goes.
    again = client.post(url, follow=True)
    assert "or was invited minutes ago" in again.text
    assert Notice.objects.filter(kind="invitation").count() == 3


def test_a_region_wide_resend_covers_its_councils_only(region, rep, people):
    elsewhere = CouncilFactory(region=RegionFactory(slug="region-y"))
    _waiting(elsewhere, "other-region@example.org")
    second = CouncilFactory(region=region, slug="second")
    _waiting(second, "second@example.org")
    sent = invitations_resend(
        councillors=councillors_managed_by(rep).filter(council__region=region), by=rep
    )
    assert sent == 4
    assert _invitations_to("second@example.org") == 1
    assert _invitations_to("other-region@example.org") == 0


def test_the_list_makes_a_fixed_number_of_queries(
    client, rep, council, django_assert_max_num_queries
):
    for i in range(40):
        _waiting(council, f"waiting{i}@example.org", invited_days_ago=i % 20 or None)
    client.force_login(rep)
    url = reverse("council_councillors", args=["oakfield"])
    client.get(url)
    with django_assert_max_num_queries(9):
        client.get(url)
