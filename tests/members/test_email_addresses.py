"""A councillor's email addresses: added, verified by the emailed link, made primary, removed."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse
from factories import CouncillorFactory, UserFactory

from members.models import User

pytestmark = pytest.mark.django_db

NEW = "dyfan.morgan@cardiff.example.gov.uk"


@pytest.fixture
def councillor(client):
    councillor = CouncillorFactory()
    client.force_login(councillor.user)
    return councillor


def _add(client, email):
    return client.post(reverse("account_email"), {"action_add": "", "email": email}, follow=True)


def _confirm_link(message) -> str:
    match = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


def test_added_address_waits_for_verification_by_link(client, councillor, mailoutbox):
    response = _add(client, NEW)
    assert response.status_code == 200
    address = EmailAddress.objects.get(email=NEW)
    assert address.user == councillor.user
    assert not address.verified and not address.primary

    assert [m.to for m in mailoutbox] == [[NEW]]
    # It says what happened, in the portal's name (not the host name of the request).
    assert mailoutbox[0].subject == "[ALC Portal] Confirm your email address"
    assert "has added this address to their ALC Portal account" in mailoutbox[0].body
    assert councillor.user.full_name in mailoutbox[0].body
    assert mailoutbox[0].body.startswith("Hello from ALC Portal")
    link = _confirm_link(mailoutbox[0])
    assert client.get(link).status_code == 200
    client.post(link)
    address.refresh_from_db()
    assert address.verified


def test_a_verified_address_can_be_made_primary(client, councillor):
    old = councillor.user.email
    EmailAddress.objects.create(user=councillor.user, email=NEW, verified=True, primary=False)

    client.post(reverse("account_email"), {"action_primary": "", "email": NEW})

    councillor.user.refresh_from_db()
    assert councillor.user.email == NEW
    assert EmailAddress.objects.get(email=NEW).primary
    assert not EmailAddress.objects.get(email=old).primary


def test_an_unverified_address_cannot_become_primary(client, councillor):
    old = councillor.user.email
    EmailAddress.objects.create(user=councillor.user, email=NEW, verified=False, primary=False)

    client.post(reverse("account_email"), {"action_primary": "", "email": NEW})

    councillor.user.refresh_from_db()
    assert councillor.user.email == old
    assert not EmailAddress.objects.get(email=NEW).primary


def test_a_second_address_can_be_removed_but_not_the_primary(client, councillor):
    EmailAddress.objects.create(user=councillor.user, email=NEW, verified=True, primary=False)
    client.post(reverse("account_email"), {"action_remove": "", "email": NEW})
    assert not EmailAddress.objects.filter(email=NEW).exists()

    client.post(reverse("account_email"), {"action_remove": "", "email": councillor.user.email})
    assert EmailAddress.objects.filter(email=councillor.user.email, primary=True).exists()


def test_someone_elses_address_cannot_be_added(client, councillor, mailoutbox):
    other = UserFactory(email="taken@example.org")
    response = _add(client, "Taken@Example.org")
    assert response.status_code == 200
    # The page does not reveal whether the address belongs to someone (allauth's protection
    # against account enumeration), but the address can never be verified for the councillor.
    pending = EmailAddress.objects.get(user=councillor.user, email__iexact=other.email)
    assert not pending.verified
    # Even with the link allauth mails to the address, it stays unverified for the councillor.
    assert [m.to for m in mailoutbox] == [["taken@example.org"]]
    client.post(_confirm_link(mailoutbox[-1]))
    pending.refresh_from_db()
    assert not pending.verified
    client.post(reverse("account_email"), {"action_primary": "", "email": pending.email})
    councillor.user.refresh_from_db()
    assert councillor.user.email != other.email
    assert EmailAddress.objects.get(user=other).verified


def test_the_profile_page_leads_to_the_email_addresses(client, councillor):
    text = client.get(reverse("profile")).text
    assert reverse("account_email") in text


# Overlong addresses: every allauth form that takes one answers with a message, never an error
# page, and stores nothing.

OVERLONG = "a" * 250 + "@example.org"

TOO_LONG = "The email address is too long (at most 254 characters)."


def _error_for(html: str, field: str) -> str:
    """The messages shown next to a field, just above its input (allauth's own pages put them
    above the field's label)."""
    match = re.search(
        rf'<ul class="errorlist" id="id_{field}_error">(.*?)</ul>\s*'
        rf'(?:<p>\s*<label for="id_{field}"|<input [^>]*id="id_{field}")',
        html,
        re.S,
    )
    return match.group(1) if match else ""


def test_an_overlong_address_is_refused_with_a_message(client, councillor, mailoutbox):
    response = client.post(reverse("account_email"), {"action_add": "", "email": OVERLONG})
    assert response.status_code == 200
    assert TOO_LONG in _error_for(response.text, "email")
    assert list(EmailAddress.objects.filter(user=councillor.user)) == [
        EmailAddress.objects.get(email=councillor.user.email)
    ]
    assert not mailoutbox


@pytest.mark.parametrize(
    ("url_name", "field", "data"),
    [
        ("account_login", "login", {"login": OVERLONG, "password": "whatever-it-is"}),
        ("account_request_login_code", "email", {"email": OVERLONG}),
        ("account_reset_password", "email", {"email": OVERLONG}),
    ],
)
def test_logged_out_forms_answer_an_overlong_address_with_a_message(
    client, url_name, field, data, mailoutbox
):
    users, addresses = User.objects.count(), EmailAddress.objects.count()
    response = client.post(reverse(url_name), data)
    assert response.status_code == 200
    assert TOO_LONG in _error_for(response.text, field)
    assert (User.objects.count(), EmailAddress.objects.count()) == (users, addresses)
    assert not mailoutbox


# The page in the portal's layout


def test_the_page_has_a_sentence_case_heading_and_each_radio_inside_its_label(client, councillor):
    EmailAddress.objects.create(user=councillor.user, email=NEW, verified=False, primary=False)
    text = client.get(reverse("account_email")).text

    assert re.findall(r"<h1>(.*?)</h1>", text) == ["Email addresses"]
    assert "Email Addresses" not in text
    assert re.search(r"<fieldset[^>]*>\s*<legend>Your email addresses</legend>", text)
    for address in (councillor.user.email, NEW):
        radio = re.search(
            rf'<label for="(email_radio_\d)"><input type="radio" name="email" '
            rf'value="{re.escape(address)}" id="\1"[^>]*>\s*<span>{re.escape(address)}',
            text,
        )
        assert radio, f"{address} has no radio inside its label"
    assert "Not confirmed yet" in text and "Primary" in text
    assert re.search(r'<button type="submit" name="action_primary">Make primary</button>', text)


def test_an_error_is_next_to_the_field_and_described_to_screen_readers(client, councillor):
    response = client.post(reverse("account_email"), {"action_add": "", "email": "not-an-email"})
    assert response.status_code == 200
    assert _error_for(response.text, "email")
    field = re.search(r'<input type="email" name="email"[^>]*>', response.text).group(0)
    assert 'aria-describedby="id_email_helptext id_email_error"' in field
    assert 'aria-invalid="true"' in field
    assert 'value="not-an-email"' in field
    assert response.text.count("<h1>") == 1
