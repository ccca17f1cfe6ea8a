import re
import time

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
)
from django.urls import reverse
from factories import PASSWORD, UserFactory

from alc_portal.mailcatcher import SmtpCatcher

pytestmark = pytest.mark.django_db


def _login(client, email, password=PASSWORD):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def _is_logged_in(client) -> bool:
    return client.get(reverse("home")).status_code == 200


def test_it_logs_in_with_email_and_password(client):
    alice = UserFactory(email="alice@example.org")
    response = _login(client, "Alice@Example.org")
    assert response.status_code == 302
    assert response.url == reverse("home")
    assert client.session["_auth_user_id"] == str(alice.pk)


def test_it_refuses_a_wrong_password(client):
    UserFactory(email="alice@example.org")
    response = _login(client, "alice@example.org", "not-the-password")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert "password you specified are not correct" in response.text


def test_unverified_email_cannot_log_in(client):
    UserFactory(email="bob@example.org", verified=False)
    response = _login(client, "bob@example.org")
    assert response.status_code == 302
    assert response.url == reverse("account_email_verification_sent")
    assert "_auth_user_id" not in client.session


def test_public_signup_is_closed(client):
    response = client.post(
        reverse("account_signup"),
        {"email": "stranger@example.org", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert "closed" in response.text.lower()
    from members.models import User

    assert not User.objects.filter(email="stranger@example.org").exists()


def test_totp_enrolled_user_must_give_a_code(client):
    alice = UserFactory(email="alice@example.org")
    secret = generate_totp_secret()
    TOTP.activate(alice, secret)

    response = _login(client, "alice@example.org")
    assert response.url == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session

    wrong = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert wrong.status_code == 200
    assert "_auth_user_id" not in client.session

    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    response = client.post(reverse("mfa_authenticate"), {"code": code})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(alice.pk)


@pytest.fixture
def smtp_server(settings):
    catcher = SmtpCatcher(host="127.0.0.1", port=0)
    catcher.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = catcher.host
    settings.EMAIL_PORT = catcher.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield catcher
    catcher.stop()


def test_it_logs_in_with_an_emailed_code(client, smtp_server):
    alice = UserFactory(email="alice@example.org")
    response = client.post(reverse("account_request_login_code"), {"email": "alice@example.org"})
    assert response.status_code == 302
    assert response.url == reverse("account_confirm_login_code")

    [message] = smtp_server.messages
    assert message["To"] == "alice@example.org"
    body = message.get_body(preferencelist=("plain",)).get_content()
    code = re.search(r"^\s*([A-Z0-9]{3,}-?[A-Z0-9]*)\s*$", body, re.MULTILINE).group(1)

    response = client.post(reverse("account_confirm_login_code"), {"code": code})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(alice.pk)


def _emailed_code(smtp_server) -> str:
    body = smtp_server.messages[-1].get_body(preferencelist=("plain",)).get_content()
    return re.search(r"^\s*([A-Z0-9]{3,}-?[A-Z0-9]*)\s*$", body, re.MULTILINE).group(1)


def test_a_code_login_proves_an_unverified_address_and_a_wrong_code_proves_nothing(
    client, smtp_server
):
    """The code only reaches whoever reads the mailbox, so using it verifies the address; a
    wrong code neither logs in nor verifies."""
    bob = UserFactory(email="bob@example.org", verified=False)
    client.post(reverse("account_request_login_code"), {"email": "bob@example.org"})
    code = _emailed_code(smtp_server)

    client.post(reverse("account_confirm_login_code"), {"code": "WRONG-CODE"})
    assert not _is_logged_in(client)
    assert not EmailAddress.objects.get(user=bob).verified

    client.post(reverse("account_confirm_login_code"), {"code": code})
    assert client.session["_auth_user_id"] == str(bob.pk)
    assert EmailAddress.objects.get(user=bob).verified

    client.logout()
    assert _login(client, "bob@example.org").url == reverse("home")


def test_login_is_rate_limited_after_repeated_failures(client):
    UserFactory(email="alice@example.org")
    for _ in range(5):
        _login(client, "alice@example.org", "wrong-password")

    response = _login(client, "alice@example.org")  # even the right password is refused now
    assert "Too many failed login attempts" in response.text
    assert "_auth_user_id" not in client.session


def test_a_forgotten_password_is_reset_through_an_emailed_link(client, smtp_server):
    alice = UserFactory(email="alice@example.org")
    response = client.post(reverse("account_reset_password"), {"email": "alice@example.org"})
    assert response.status_code == 302

    [message] = smtp_server.messages
    body = message.get_body(preferencelist=("plain",)).get_content()
    link = re.search(r"http://testserver(/accounts/password/reset/key/\S+)", body).group(1)

    form_page = client.get(link, follow=True)
    new_password = "a-brand-new-password-77"
    response = client.post(
        form_page.redirect_chain[-1][0] if form_page.redirect_chain else link,
        {"password1": new_password, "password2": new_password},
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password(new_password)
