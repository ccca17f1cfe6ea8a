"""Invitations: a stated lifetime and their own tokens, a new one on request from the expired
link's page, none for someone who has left, and a password reset that proves the address."""

import datetime
import re
from urllib.parse import urlsplit

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from factories import CouncilFactory, CouncillorFactory, UserFactory

from members.models import Decision, JoinRequest, User
from members.services import councillors, invitations
from members.services.notices import notices_send_due
from members.tokens import invitation_token_generator

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-long-new-password-77"
SET_PASSWORD = {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}


@pytest.fixture
def invitee():
    """A serving councillor added by their representative, who has not yet set a password."""
    council = CouncilFactory(name="Oakfield Borough Council")
    user = User.objects.create_user(email="grace@example.org", full_name="Grace Hopper")
    EmailAddress.objects.create(user=user, email=user.email, verified=False, primary=True)
    return CouncillorFactory(user=user, council=council)


def _link_for(user, token=None) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = token or invitation_token_generator.make_token(user)
    return reverse("invitation_accept", args=[uid, token])


def _token_issued_days_ago(user, days: float) -> str:
    issued = invitation_token_generator._num_seconds(invitation_token_generator._now())
    issued -= int(days * 24 * 60 * 60)
    return invitation_token_generator._make_token_with_timestamp(
        user, issued, invitation_token_generator.secret
    )


def test_the_invitation_email_states_when_the_link_expires(invitee, mailoutbox, settings):
    settings.INVITATION_DAYS = 14
    record = JoinRequest.objects.create(
        full_name="Grace Hopper",
        email=invitee.user.email,
        council=invitee.council,
        ward="Riverside",
        status=Decision.APPROVED,
    )
    assert invitations.invitation_queue(join_request=record, user=invitee.user)
    assert notices_send_due() == 1

    expires = timezone.localtime() + datetime.timedelta(days=14)
    [message] = mailoutbox
    assert f"until {expires:%-d %B %Y}" in message.body
    assert f"until {expires:%-d %B %Y}" in message.alternatives[0][0]


def test_an_invitation_works_for_invitation_days_and_no_longer(client, invitee, settings):
    settings.INVITATION_DAYS = 14
    user = invitee.user
    assert client.get(_link_for(user, _token_issued_days_ago(user, 13.9))).status_code == 200
    expired = _link_for(user, _token_issued_days_ago(user, 14.1))
    assert client.get(expired).status_code == 400
    assert client.post(expired, SET_PASSWORD).status_code == 400

    settings.INVITATION_DAYS = 30
    assert client.get(expired).status_code == 200


def test_a_password_reset_token_is_not_an_invitation(client, invitee):
    url = _link_for(invitee.user, default_token_generator.make_token(invitee.user))
    assert client.post(url, SET_PASSWORD).status_code == 400
    invitee.user.refresh_from_db()
    assert not invitee.user.has_usable_password()


def test_a_sent_invitation_link_uses_the_invitation_token(invitee):
    link = urlsplit(invitations.invitation_link(invitee.user)).path
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert invitation_token_generator.check_token(invitee.user, token)
    assert not default_token_generator.check_token(invitee.user, token)


# Asking for a new invitation from the expired link's page


def _ask_again(client, email, link=None):
    link = link or _link_for(UserFactory(), "expired-token")
    return client.post(link, {"email": email}, follow=True)


def _invitations_queued(email):
    return JoinRequest.objects.filter(email=email, status=Decision.APPROVED).count()


def test_the_expired_link_page_offers_to_send_a_new_invitation(client, invitee):
    page = client.get(_link_for(invitee.user, _token_issued_days_ago(invitee.user, 20)))
    assert page.status_code == 400
    assert "Ask for a new invitation" in page.text
    assert 'name="email"' in page.text


def test_a_pending_serving_councillor_is_sent_a_new_invitation(
    client, invitee, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = _ask_again(client, "Grace@Example.org")
    assert "a new invitation is on its way" in response.text
    assert _invitations_queued("grace@example.org") == 1
    assert len(callbacks) == 1

    # A second request a moment later finds one on its way and sends nothing more.
    _ask_again(client, "grace@example.org")
    assert _invitations_queued("grace@example.org") == 1


def _answer(response) -> str:
    return re.search(r'<div class="messages".*?</div>', response.text, re.S).group(0)


def test_the_answer_is_the_same_whether_or_not_an_invitation_is_sent(client, invitee):
    accepted = CouncillorFactory()  # has a password: their invitation was taken up
    left = CouncillorFactory(left_on=datetime.date(2025, 5, 1))
    left.user.set_unusable_password()
    left.user.save()
    answers = {
        email: _answer(_ask_again(client, email))
        for email in [
            "grace@example.org",
            "nobody@example.org",
            accepted.user.email,
            left.user.email,
        ]
    }
    assert len(set(answers.values())) == 1
    assert _invitations_queued("grace@example.org") == 1
    assert _invitations_queued("nobody@example.org") == 0
    assert _invitations_queued(accepted.user.email) == 0
    assert _invitations_queued(left.user.email) == 0


def test_someone_who_is_not_a_councillor_is_not_invited(client):
    person = User.objects.create_user(email="staffer@example.org")
    EmailAddress.objects.create(user=person, email=person.email, verified=False, primary=True)
    _ask_again(client, "staffer@example.org")
    assert not JoinRequest.objects.exists()


def test_asking_for_new_invitations_is_rate_limited_per_address(client, invitee):
    for _ in range(3):
        _ask_again(client, "someone@example.org")
    # Another address has its own allowance: three requests for the councillor's address...
    for _ in range(3):
        _ask_again(client, "grace@example.org")
    # ...and a fourth is answered the same but sends nothing, even with nothing on its way.
    JoinRequest.objects.all().delete()
    response = _ask_again(client, "grace@example.org")
    assert "a new invitation is on its way" in response.text
    assert not JoinRequest.objects.exists()


def test_asking_for_new_invitations_is_rate_limited_per_network(client, invitee):
    for n in range(10):
        _ask_again(client, f"someone{n}@example.org")
    response = _ask_again(client, "grace@example.org")
    assert "a new invitation is on its way" in response.text
    assert not JoinRequest.objects.exists()


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("not-an-address", "Enter a valid email address."),
        ("a" * 250 + "@example.org", "at most 254 characters"),
        ("<script>@example.org", "Enter a valid email address."),
    ],
)
def test_a_bad_address_is_explained_next_to_the_field(client, email, message):
    response = client.post(_link_for(UserFactory(), "expired-token"), {"email": email})
    assert response.status_code == 400
    assert message in response.text
    assert 'aria-describedby="id_email_' in response.text
    assert "<script>@" not in response.text
    assert not JoinRequest.objects.exists()


# Someone marked as no longer a councillor before accepting


def test_someone_who_left_before_accepting_cannot_accept(client, invitee):
    link = _link_for(invitee.user)
    councillors.councillor_mark_left(councillor=invitee)

    page = client.get(link)
    assert page.status_code == 403
    assert "no longer a councillor, so this invitation no longer works" in page.text
    assert client.post(link, SET_PASSWORD).status_code == 403
    invitee.user.refresh_from_db()
    assert not invitee.user.has_usable_password()
    assert "_auth_user_id" not in client.session


def test_no_invitation_is_sent_to_someone_who_has_left(invitee, mailoutbox):
    record = JoinRequest.objects.create(
        full_name="Grace Hopper",
        email=invitee.user.email,
        council=invitee.council,
        ward="Riverside",
        status=Decision.APPROVED,
    )
    councillors.councillor_mark_left(councillor=invitee)
    assert not invitations.invitation_queue(join_request=record, user=invitee.user)
    assert notices_send_due() == 0
    assert mailoutbox == []


# A password reset proves the address


def _reset_password(client, mailoutbox, email):
    client.post(reverse("account_reset_password"), {"email": email})
    [message] = [m for m in mailoutbox if "reset" in m.subject.lower()]
    link = re.search(r"http://testserver(/accounts/password/reset/key/\S+)", message.body).group(1)
    form_page = client.get(link, follow=True)
    url = form_page.redirect_chain[-1][0] if form_page.redirect_chain else link
    return client.post(url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})


def test_a_password_reset_verifies_the_address_of_someone_whose_invitation_is_pending(
    client, invitee, mailoutbox
):
    _reset_password(client, mailoutbox, "grace@example.org")

    assert EmailAddress.objects.get(user=invitee.user).verified
    client.logout()
    response = client.post(
        reverse("account_login"), {"login": "grace@example.org", "password": NEW_PASSWORD}
    )
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(invitee.user.pk)


def test_a_password_reset_leaves_an_unconfirmed_second_address_unverified(client, mailoutbox):
    alice = UserFactory(email="alice@example.org")
    alice.last_login = timezone.now()
    alice.save()
    EmailAddress.objects.create(user=alice, email="second@example.org", verified=False)
    _reset_password(client, mailoutbox, "alice@example.org")
    alice.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD)
    assert not EmailAddress.objects.get(email="second@example.org").verified
