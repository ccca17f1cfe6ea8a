"""A councillor sees on their profile that they unsubscribed from campaign mailings, and can
receive them again; a bounce, a complaint or a staff entry stays, with whom to contact."""

import pytest
from django.urls import reverse
from factories import CouncillorFactory, MailingFactory, SuppressionFactory, UserFactory

from campaigns.models import Suppression

pytestmark = pytest.mark.django_db


@pytest.fixture
def councillor():
    return CouncillorFactory(user__email="cllr@example.org", wants_campaign_mailings=False)


def test_the_profile_says_when_they_unsubscribed_and_offers_to_undo_it(client, councillor):
    suppression = SuppressionFactory(email="CLLR@example.org", reason="unsubscribed")
    client.force_login(councillor.user)
    text = client.get(reverse("profile")).text
    when = suppression.created_at.strftime("%-d %B %Y")
    assert f"You unsubscribed from campaign mailings on {when}" in text
    assert "Receive campaign mailings again" in text
    assert 'name="csrfmiddlewaretoken"' in text


def test_receiving_mailings_again_removes_only_their_unsubscribe_and_notes_it(client, councillor):
    mine = SuppressionFactory(email="cllr@example.org", reason="unsubscribed")
    someone_elses = SuppressionFactory(email="other@example.org", reason="unsubscribed")
    client.force_login(councillor.user)

    response = client.post(reverse("campaigns:own_mailings_resume"), {"suppression": mine.pk})

    assert response.status_code == 302
    assert not Suppression.objects.filter(pk=mine.pk).exists()
    assert Suppression.objects.filter(pk=someone_elses.pk).exists()
    councillor.refresh_from_db()
    assert councillor.wants_campaign_mailings is True
    assert councillor.history.first().history_change_reason == (
        "Asked to receive campaign mailings again at cllr@example.org"
    )
    assert "You unsubscribed" not in client.get(reverse("profile")).text


def test_someone_elses_unsubscribe_cannot_be_lifted(client, councillor):
    other = SuppressionFactory(email="other@example.org", reason="unsubscribed")
    client.force_login(councillor.user)
    response = client.post(reverse("campaigns:own_mailings_resume"), {"suppression": other.pk})
    assert response.status_code == 404
    assert Suppression.objects.filter(pk=other.pk).exists()
    not_a_number = client.post(reverse("campaigns:own_mailings_resume"), {"suppression": "x"})
    assert not_a_number.status_code == 404


def test_an_unverified_address_of_theirs_is_not_theirs_to_lift(client, councillor):
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=councillor.user, email="maybe@example.org", verified=False)
    entry = SuppressionFactory(email="maybe@example.org", reason="unsubscribed")
    client.force_login(councillor.user)
    assert "You unsubscribed" not in client.get(reverse("profile")).text
    response = client.post(reverse("campaigns:own_mailings_resume"), {"suppression": entry.pk})
    assert response.status_code == 404
    assert Suppression.objects.filter(pk=entry.pk).exists()


@pytest.mark.parametrize(
    ("reason", "shown"),
    [
        ("bounced", "bounced"),
        ("complained", "reported as spam"),
        ("staff", "stopped by the national office"),
    ],
)
def test_a_bounce_complaint_or_staff_entry_stays_and_says_whom_to_contact(
    client, councillor, reason, shown
):
    entry = SuppressionFactory(email="cllr@example.org", reason=reason)
    client.force_login(councillor.user)
    text = client.get(reverse("profile")).text
    assert f"Mail to cllr@example.org is stopped ({shown}); contact the national office" in text
    assert "portal@alc.example.org" in text
    assert "Receive campaign mailings again" not in text
    response = client.post(reverse("campaigns:own_mailings_resume"), {"suppression": entry.pk})
    assert response.status_code == 404
    assert Suppression.objects.filter(pk=entry.pk).exists()


def test_lifting_needs_a_post(client, councillor):
    mine = SuppressionFactory(email="cllr@example.org", reason="unsubscribed")
    client.force_login(councillor.user)
    response = client.get(reverse("campaigns:own_mailings_resume"), {"suppression": mine.pk})
    assert response.status_code == 405
    assert Suppression.objects.filter(pk=mine.pk).exists()


def test_the_unsubscribe_confirmation_gives_the_national_office_address(client):
    from campaigns.models import Delivery
    from campaigns.unsubscribe import unsubscribe_token

    UserFactory(email="reader@example.org")
    delivery = Delivery.objects.create(mailing=MailingFactory(), email="reader@example.org")
    token = unsubscribe_token(delivery_id=delivery.pk)
    text = client.post(reverse("unsubscribe", args=[token])).text
    assert 'write to the national office at <a href="mailto:portal@alc.example.org">' in text
