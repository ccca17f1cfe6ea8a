"""Attacks on the links in the portal's mail: reading an address out of an unsubscribe link
(forwarded, logged by a proxy, pasted into a chat), and the links breaking when the secret key
is rotated."""

import base64
import re

import pytest
from django.core import signing
from django.test import Client
from factories import CouncilGroupFactory, MailingFactory

from campaigns.models import Delivery, Mailing, Suppression
from campaigns.services import sending
from campaigns.unsubscribe import PreviewLinks, UnsubscribeLinks

pytestmark = pytest.mark.django_db

ADDRESS = "ann.o'brien@example.org"
OLD_KEY = "an-earlier-secret-key-that-has-since-been-rotated-away-0123456789"
NEW_KEY = "the-current-secret-key-after-rotation-abcdefghijklmnopqrstuvwxyz01"


def _base64_forms(text: str) -> set[str]:
    """The address as base64 would carry it, at each of the three alignments, so that it is
    found inside a longer encoded value."""
    data = text.encode()
    forms = set()
    for pad in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = encode(b"\0" * pad + data).decode().rstrip("=")
            # Characters that depend on the padding or on what follows are left out.
            forms.add(encoded[(pad * 4 + 2) // 3 + 1 : -2])
    return forms


def _sent_link(smtp_server) -> str:
    group = CouncilGroupFactory(contact_email=ADDRESS)
    mailing = MailingFactory(status=Mailing.Status.SENDING)
    Delivery.objects.create(mailing=mailing, email=ADDRESS, group=group, context={})
    sending.mailing_send_some(mailing_id=mailing.pk, worker="w1", seconds=30)
    [message] = smtp_server.wait_for(1)
    return message["List-Unsubscribe"].split(",")[0].strip("<> ")


def test_an_unsubscribe_link_carries_no_address(smtp_server, settings):
    settings.EMAIL_TIMEOUT = 5
    link = _sent_link(smtp_server)
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert "@" not in link
    assert "o'brien" not in link.lower() and "brien" not in link.lower()
    for encoded in _base64_forms(ADDRESS):
        assert encoded not in token, encoded
    # ...and it still unsubscribes the address it was sent to.
    assert Client().post(link.split("8000", 1)[1]).status_code == 200
    assert Suppression.objects.get().email == ADDRESS


def test_the_check_would_find_an_address_encoded_as_links_once_carried_it():
    legacy = signing.dumps([ADDRESS, 1], salt="campaigns.unsubscribe")
    assert any(encoded in legacy for encoded in _base64_forms(ADDRESS))


def test_a_link_sent_before_links_named_deliveries_still_works():
    mailing = MailingFactory()
    legacy = signing.dumps([ADDRESS, mailing.pk], salt="campaigns.unsubscribe")
    response = Client(enforce_csrf_checks=True).post(f"/unsubscribe/{legacy}/")
    assert response.status_code == 200
    suppression = Suppression.objects.get()
    assert (suppression.email, suppression.mailing) == (ADDRESS, mailing)


@pytest.mark.parametrize("kind", ["link", "link sent before"])
def test_links_signed_with_a_rotated_key_work_while_it_is_a_fallback(settings, kind):
    settings.SECRET_KEY = OLD_KEY
    mailing = MailingFactory()
    if kind == "link":
        delivery = Delivery.objects.create(mailing=mailing, email=ADDRESS)
        link = UnsubscribeLinks().url(delivery_id=delivery.pk, mailing_id=mailing.pk)
        path = re.search(r"/unsubscribe/.*", link).group(0)
    else:
        path = f"/unsubscribe/{signing.dumps([ADDRESS, mailing.pk], salt='campaigns.unsubscribe')}/"

    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW_KEY, []
    assert Client().post(path).status_code == 400
    assert not Suppression.objects.exists()

    settings.SECRET_KEY_FALLBACKS = [OLD_KEY]
    assert Client().post(path).status_code == 200
    assert Suppression.objects.get().email == ADDRESS


def test_a_test_copys_link_carries_no_address_either():
    mailing = MailingFactory()
    link = PreviewLinks().url(mailing_id=mailing.pk)
    assert "@" not in link
    for encoded in _base64_forms(ADDRESS):
        assert encoded not in link
