"""Attacks on signing in: the admin's own login page, passwords guessed, the second factor
skipped. Each test is one attack, made through the real forms against the real database and
Redis (where allauth keeps its rate-limit counters)."""

import pytest
from django.urls import reverse
from factories import (
    PASSWORD,
    TOTP_SECRET,
    RegionFactory,
    StaffFactory,
    TwoFactorUserFactory,
    UserFactory,
    totp_code,
)
from mailreading import login_code_in

from members.services.accounts import two_factor_enrol
from members.services.representatives import representative_appoint
from regions.models import RegionalRepresentative

pytestmark = pytest.mark.django_db

WRONG = "not-the-password-at-all"


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def _sign_in_with_code(client, email):
    """Password, then the authenticator code: the whole allauth sign-in."""
    response = client.post(reverse("account_login"), {"login": email, "password": PASSWORD})
    assert response.url == reverse("mfa_authenticate")
    return client.post(reverse("mfa_authenticate"), {"code": totp_code()})


def _ends_at_sign_in(client, url) -> bool:
    response = client.get(url, follow=True)
    return response.redirect_chain[-1][0].startswith(reverse("account_login"))


def test_a_password_posted_to_the_admin_login_gives_no_session(client):
    staff = StaffFactory(is_superuser=True)
    response = client.post(
        "/admin/login/?next=/admin/", {"username": staff.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    assert not _signed_in(client)
    assert _ends_at_sign_in(client, "/admin/")
    assert _ends_at_sign_in(client, "/regions/national/")
    assert _ends_at_sign_in(client, "/admin/members/user/")


def test_the_admin_opens_after_signing_in_through_allauth_with_a_code(client):
    staff = StaffFactory(is_superuser=True)
    response = client.get("/admin/")
    assert response.status_code == 302
    response = _sign_in_with_code(client, staff.email)
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/members/user/").status_code == 200


def test_twelve_wrong_passwords_lock_the_allauth_sign_in(client):
    staff = StaffFactory()
    for _ in range(12):
        response = client.post(reverse("account_login"), {"login": staff.email, "password": WRONG})
        assert not _signed_in(client)
    response = client.post(reverse("account_login"), {"login": staff.email, "password": PASSWORD})
    assert response.status_code in (200, 429)
    assert "Too many failed login attempts" in response.text
    assert not _signed_in(client)


def test_twelve_wrong_passwords_through_the_admin_login_lock_it_too(client):
    staff = StaffFactory(is_superuser=True)
    # The admin's page takes no password: every post is sent to allauth's sign-in.
    for _ in range(12):
        response = client.post("/admin/login/", {"username": staff.email, "password": WRONG})
        assert response.status_code == 302
        login_url = response.url
        response = client.post(login_url, {"login": staff.email, "password": WRONG})
        assert not _signed_in(client)
    client.post("/admin/login/", {"username": staff.email, "password": PASSWORD})
    response = client.post(login_url, {"login": staff.email, "password": PASSWORD})
    assert "Too many failed login attempts" in response.text
    assert not _signed_in(client)
    assert _ends_at_sign_in(client, "/admin/")


def test_twelve_wrong_codes_lock_the_second_factor(client):
    staff = StaffFactory()
    response = client.post(reverse("account_login"), {"login": staff.email, "password": PASSWORD})
    assert response.url == reverse("mfa_authenticate")
    right = totp_code()
    wrong = "000000" if right != "000000" else "111111"
    for _ in range(12):
        client.post(reverse("mfa_authenticate"), {"code": wrong})
        assert not _signed_in(client)
    response = client.post(reverse("mfa_authenticate"), {"code": right})
    assert "Too many" in response.text
    assert not _signed_in(client)


@pytest.fixture
def representative():
    region = RegionFactory(name="Testshire")
    person = TwoFactorUserFactory()
    RegionalRepresentative.objects.create(user=person, region=region)
    return person


PAST_THE_ACCOUNT_PAGES = ["/", "/regions/testshire/", "/campaigns/mailings/", "/join-requests/"]


def test_a_representative_session_without_the_second_factor_reaches_only_account_pages(
    client, representative
):
    client.force_login_without_two_factor(representative)
    for url in PAST_THE_ACCOUNT_PAGES:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("mfa_reauthenticate")), url
    for url in [reverse("account_email"), reverse("mfa_index"), reverse("account_change_password")]:
        assert client.get(url).status_code == 200, url
    response = client.post(
        f"{reverse('mfa_reauthenticate')}?next=/regions/testshire/", {"code": totp_code()}
    )
    assert response.status_code == 302
    assert response.url == "/regions/testshire/"
    assert client.get("/regions/testshire/").status_code == 200


def test_a_councillor_signed_in_by_login_code_then_appointed_must_give_the_code(
    client, smtp_server
):
    """The session began with a code sent by email, before the person had any role: once they
    represent a region, it is asked for the authenticator code before anything else."""
    person = UserFactory()
    client.post(reverse("account_request_login_code"), {"email": person.email})
    [message] = smtp_server.messages
    client.post(reverse("account_confirm_login_code"), {"code": login_code_in(message)})
    assert _signed_in(client)
    two_factor_enrol(user=person, totp_secret=TOTP_SECRET)
    representative_appoint(user=person, region=RegionFactory(name="Testshire"))
    response = client.get("/regions/testshire/")
    assert response.status_code == 302
    assert response.url.startswith(reverse("mfa_reauthenticate"))
    client.post(reverse("mfa_reauthenticate"), {"code": totp_code()})
    assert client.get("/regions/testshire/").status_code == 200
