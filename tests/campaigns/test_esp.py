"""SMTP is the default transport; settings can choose an email provider through django-anymail
instead, and the same sending loop then hands each message to the provider's backend.

The provider here is anymail's own test backend (it keeps messages in django.core.mail.outbox
and reports them as sent), so that no provider's servers are needed."""

import pytest
from django.core import mail
from factories import MailingFactory, SuppressionFactory

from campaigns.models import Delivery, Mailing
from campaigns.services import sending

pytestmark = pytest.mark.django_db


@pytest.fixture
def provider(settings):
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    settings.ANYMAIL = {}
    mail.outbox = []


def test_a_mailing_goes_out_through_an_anymail_provider(provider, deliveries_create):
    mailing = MailingFactory(
        status=Mailing.Status.SENDING,
        subject="News for {{ group.name }}",
        body="Dear {{ recipient.first_name }},\n\n[Our page](https://alc.example.org/)",
    )
    deliveries_create(mailing, 5)
    SuppressionFactory(email="person3@example.org")

    assert sending.mailing_send_some(mailing_id=mailing.pk, worker="esp", seconds=30) is None

    sent = {m.to[0]: m for m in mail.outbox}
    assert set(sent) == {f"person{n}@example.org" for n in (0, 1, 2, 4)}
    message = sent["person0@example.org"]
    assert message.subject == "News for Group 0"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.extra_headers["List-Unsubscribe"].startswith("<http")
    assert [mimetype for _, mimetype in message.alternatives] == ["text/html"]
    assert message.anymail_status.status == {"sent"}
    statuses = dict(Delivery.objects.values_list("email", "status"))
    assert statuses.pop("person3@example.org") == "suppressed"
    assert set(statuses.values()) == {"sent"}
    mailing.refresh_from_db()
    assert mailing.status == Mailing.Status.SENT
