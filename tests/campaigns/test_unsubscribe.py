import pytest
from django.test import Client
from factories import MailingFactory

from campaigns.models import Delivery, Suppression
from campaigns.unsubscribe import unsubscribe_token, unsubscribe_url

pytestmark = pytest.mark.django_db


def _path(email="alex@example.org", mailing_id=None):
    return unsubscribe_url(email=email, mailing_id=mailing_id).split("8000", 1)[1]


def test_one_click_post_without_session_or_csrf_unsubscribes_once():
    mailing = MailingFactory()
    client = Client(enforce_csrf_checks=True)
    path = _path("Alex@Example.org", mailing.pk)
    body = {"List-Unsubscribe": "One-Click"}
    assert client.post(path, body).status_code == 200
    assert client.post(path, body).status_code == 200
    suppression = Suppression.objects.get()
    assert suppression.email == "alex@example.org"
    assert suppression.reason == "unsubscribed"
    assert suppression.mailing == mailing


def test_get_shows_a_confirmation_button_and_changes_nothing(client):
    response = client.get(_path())
    assert response.status_code == 200
    assert "alex@example.org" in response.text
    assert '<form method="post"' in response.text
    assert not Suppression.objects.exists()


def test_unsubscribing_stops_pending_deliveries():
    mailing = MailingFactory()
    Delivery.objects.create(mailing=mailing, email="alex@example.org")
    Client().post(_path("alex@example.org", mailing.pk))
    assert Delivery.objects.get().status == "suppressed"


@pytest.mark.parametrize(
    "token",
    ["nonsense", unsubscribe_token(email="alex@example.org", mailing_id=1) + "x", "a:b:c"],
)
def test_forged_or_damaged_token_is_refused_without_error(client, token):
    assert client.get(f"/unsubscribe/{token}/").status_code == 400
    assert client.post(f"/unsubscribe/{token}/").status_code == 400
    assert not Suppression.objects.exists()


def test_token_made_with_another_key_is_refused(client, settings):
    token = unsubscribe_token(email="alex@example.org", mailing_id=None)
    settings.SECRET_KEY = "another-key-entirely-" * 3
    assert client.post(f"/unsubscribe/{token}/").status_code == 400
