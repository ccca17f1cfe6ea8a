"""Staff and representatives see other people's details: they must enrol in two-factor
authentication before they can use anything but their account pages."""

import pytest
from django.urls import reverse
from factories import PASSWORD, CouncillorFactory, RegionFactory, UserFactory

from members.models import StaffRole
from members.services.accounts import two_factor_enrol
from regions.models import RegionalRepresentative

pytestmark = pytest.mark.django_db


@pytest.fixture
def representative_without_two_factor():
    user = UserFactory()
    RegionalRepresentative.objects.create(user=user, region=RegionFactory(name="Testshire"))
    return user


@pytest.fixture
def staff_without_two_factor():
    user = UserFactory(is_staff=True)
    StaffRole.objects.create(user=user)
    return user


@pytest.mark.parametrize("who", ["representative_without_two_factor", "staff_without_two_factor"])
@pytest.mark.parametrize("url", ["/", "/regions/testshire/", "/admin/", "/campaigns/mailings/"])
def test_roles_without_two_factor_are_sent_to_enrol(client, request, who, url):
    RegionFactory(name="Testshire")
    client.force_login(request.getfixturevalue(who))
    response = client.get(url)
    assert response.status_code == 302
    assert response.url == reverse("mfa_activate_totp")


def test_the_enrolment_and_account_pages_stay_open(client, representative_without_two_factor):
    client.force_login(representative_without_two_factor)
    # allauth first asks for the password again before a new authenticator is added.
    response = client.get(reverse("mfa_activate_totp"), follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0].startswith(reverse("account_reauthenticate"))
    assert client.get(reverse("account_email")).status_code == 200


def test_a_representative_who_just_signed_in_goes_straight_to_enrolment(
    client, representative_without_two_factor
):
    """Their password was typed a moment ago: allauth's reauthentication is not asked again."""
    response = client.post(
        reverse("account_login"),
        {"login": representative_without_two_factor.email, "password": PASSWORD},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("mfa_activate_totp")
    assert response.status_code == 200
    assert 'name="code"' in response.text


def test_once_enrolled_a_representative_gets_their_pages(client, representative_without_two_factor):
    two_factor_enrol(user=representative_without_two_factor, totp_secret="JBSWY3DPEHPK3PXP")
    client.force_login(representative_without_two_factor)
    assert client.get("/regions/testshire/").status_code == 200


def test_councillors_need_not_enrol(client):
    client.force_login(CouncillorFactory().user)
    assert client.get("/").status_code == 200


@pytest.mark.parametrize(
    "flags", [{"is_staff": True}, {"is_superuser": True}, {"is_staff": True, "is_superuser": True}]
)
@pytest.mark.parametrize("url", ["/admin/", "/admin/members/councillor/", "/"])
def test_admin_site_users_without_a_role_must_enrol_too(client, flags, url):
    client.force_login(UserFactory(**flags))
    response = client.get(url)
    assert response.status_code == 302
    assert response.url == reverse("mfa_activate_totp")


def test_an_enrolled_superuser_reaches_the_admin(client):
    user = UserFactory(is_staff=True, is_superuser=True)
    two_factor_enrol(user=user, totp_secret="JBSWY3DPEHPK3PXP")
    client.force_login(user)
    assert client.get("/admin/members/councillor/").status_code == 200
