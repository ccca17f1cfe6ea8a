import threading

import pytest
from django.db import connection
from django.test import Client
from factories import MailingFactory, SuppressionFactory

from campaigns.models import Delivery, Mailing, Suppression
from campaigns.services import sending
from campaigns.unsubscribe import UnsubscribeLinks, unsubscribe_token

pytestmark = pytest.mark.django_db


def _path(email="alex@example.org", mailing_id=None):
    """The unsubscribe link of the message of that mailing (a new one if None) to that address."""
    mailing = Mailing.objects.get(pk=mailing_id) if mailing_id else MailingFactory()
    delivery, _ = Delivery.objects.get_or_create(mailing=mailing, email=email.lower())
    url = UnsubscribeLinks().url(delivery_id=delivery.pk, mailing_id=mailing.pk)
    return url.split("8000", 1)[1]


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


def test_unsubscribing_by_a_link_stops_the_address_in_every_mailing():
    first, second = MailingFactory(), MailingFactory()
    Delivery.objects.create(mailing=second, email="alex@example.org")
    Client().post(_path("alex@example.org", first.pk))
    assert Delivery.objects.get(mailing=second).status == "suppressed"


@pytest.mark.parametrize(
    "token",
    ["nonsense", unsubscribe_token(delivery_id=1) + "x", "a:b:c", "d1:forged"],
)
def test_forged_or_damaged_token_is_refused_without_error(client, token):
    assert client.get(f"/unsubscribe/{token}/").status_code == 400
    assert client.post(f"/unsubscribe/{token}/").status_code == 400
    assert not Suppression.objects.exists()


def test_token_made_with_another_key_is_refused(client, settings):
    token = _path().split("/")[2]
    settings.SECRET_KEY = "another-key-entirely-" * 3
    assert client.post(f"/unsubscribe/{token}/").status_code == 400


def _on_first_message(smtp, action):
    """Run `action` in the SMTP server's thread when the first message arrives, before the
    server answers it: the sender is then in the middle of its batch. (In a thread of its
    own: the server's thread runs an event loop, where Django allows no database calls.)"""
    original = smtp._received
    done = []

    def run():
        try:
            action()
        finally:
            connection.close()

    def received(*args):
        if not done:
            done.append(True)
            thread = threading.Thread(target=run)
            thread.start()
            thread.join(30)
        original(*args)

    smtp._received = received


def _unsubscribe_by_link():
    delivery = Delivery.objects.get(email="person2@example.org")
    path = _path(delivery.email, delivery.mailing_id)
    assert (
        Client(enforce_csrf_checks=True).post(path, {"List-Unsubscribe": "One-Click"}).status_code
        == 200
    )


def _suppress_by_staff():
    SuppressionFactory(email="person2@example.org", reason="staff")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("suppress", [_unsubscribe_by_link, _suppress_by_staff])
def test_unsubscribe_during_a_batch_stops_the_rest_of_it(smtp, deliveries_create, suppress):
    mailing = MailingFactory(status=Mailing.Status.SENDING)
    deliveries_create(mailing, 4)
    _on_first_message(smtp, suppress)
    assert sending.mailing_send_some(mailing_id=mailing.pk, worker="w1", seconds=30) is None
    assert sorted(m.rcpt_tos[0] for m in smtp.messages) == [
        "person0@example.org",
        "person1@example.org",
        "person3@example.org",
    ]
    assert Delivery.objects.get(email="person2@example.org").status == "suppressed"
    assert Delivery.objects.filter(status="sent").count() == 3
