import collections

import pytest
from django.db.models import Sum
from factories import MailingFactory
from polling import wait_for

from campaigns.models import Delivery, Mailing

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_smtp_outage_mid_mailing_delivers_everything_once(
    senders, deliveries_create, sending_begin, received_addresses
):
    smtp = senders.smtp
    mailing = MailingFactory()
    deliveries_create(mailing, 600)
    senders.start()
    sending_begin(mailing)
    wait_for(lambda: len(smtp.messages) >= 100, timeout=60, interval=0.01)
    smtp.stop()
    # Keep the server down until the worker has been refused twice: a send, and a later try
    # (a row still pending has failed every attempt it has had).
    pending = Delivery.objects.filter(mailing=mailing, status=Delivery.Status.PENDING)
    wait_for(lambda: (pending.aggregate(tries=Sum("attempts"))["tries"] or 0) >= 2, timeout=60)
    assert len(smtp.messages) < 600
    smtp.start()
    wait_for(lambda: Mailing.objects.get(pk=mailing.pk).status == Mailing.Status.SENT, timeout=120)
    counts = collections.Counter(received_addresses(smtp))
    assert len(counts) == 600
    assert max(counts.values()) == 1
