"""Two-factor authentication is open to every member, not only to staff and representatives:
a councillor turns on an authenticator app, gets recovery codes, and can sign in with one."""

import time

import pytest
from allauth.account import app_settings as account_settings
from allauth.account.internal.flows.login import AUTHENTICATION_METHODS_SESSION_KEY
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY, format_hotp_value, hotp_value
from django.urls import reverse
from factories import PASSWORD, CouncillorFactory

pytestmark = pytest.mark.django_db


def _code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def _log_in(client, email):
    return client.post(reverse("account_login"), {"login": email, "password": PASSWORD})


def _sign_in_was_a_while_ago(client):
    session = client.session
    records = session[AUTHENTICATION_METHODS_SESSION_KEY]
    for record in records:
        record["at"] -= account_settings.REAUTHENTICATION_TIMEOUT + 1
    session[AUTHENTICATION_METHODS_SESSION_KEY] = records
    session.save()


def test_a_councillor_turns_on_two_factor_and_signs_in_with_a_recovery_code(client):
    user = CouncillorFactory().user
    _log_in(client, user.email)

    # Just signed in: turning it on needs no second password.
    assert client.get(reverse("mfa_activate_totp")).status_code == 200
    # Later, changing sign-in settings asks for the password again first.
    _sign_in_was_a_while_ago(client)
    page = client.get(reverse("mfa_activate_totp"))
    assert page.url.startswith(reverse("account_reauthenticate"))
    client.post(page.url, {"password": PASSWORD})
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    secret = client.session[SECRET_SESSION_KEY]
    response = client.post(reverse("mfa_activate_totp"), {"code": _code(secret)})
    assert response.status_code == 302
    assert set(Authenticator.objects.filter(user=user).values_list("type", flat=True)) == {
        Authenticator.Type.TOTP,
        Authenticator.Type.RECOVERY_CODES,
    }
    codes = RecoveryCodes(
        Authenticator.objects.get(user=user, type=Authenticator.Type.RECOVERY_CODES)
    ).get_unused_codes()
    assert len(codes) >= 10
    # The councillor can read the codes to keep them somewhere safe.
    assert codes[0] in client.get(reverse("mfa_view_recovery_codes")).text

    client.post(reverse("account_logout"))
    assert _log_in(client, user.email).url == reverse("mfa_authenticate")
    client.post(reverse("mfa_authenticate"), {"code": codes[0]})
    assert client.session["_auth_user_id"] == str(user.pk)

    # A recovery code works once.
    client.post(reverse("account_logout"))
    _log_in(client, user.email)
    client.post(reverse("mfa_authenticate"), {"code": codes[0]})
    assert "_auth_user_id" not in client.session


def test_councillors_are_offered_two_factor_but_not_made_to_use_it(client):
    user = CouncillorFactory().user
    _log_in(client, user.email)
    assert client.get(reverse("profile")).status_code == 200  # no enrolment first
    assert client.get(reverse("mfa_index")).status_code == 200
