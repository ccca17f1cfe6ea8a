"""Workers killed with SIGKILL mid-mailing: everything still arrives, and at most one message
per kill arrives twice."""

import collections
import time

import pytest
from factories import MailingFactory
from polling import wait_for

from campaigns.models import Delivery, Mailing

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ADDRESSES = 2000


def test_killing_workers_twice_loses_nothing_and_repeats_at_most_one_per_kill(
    senders, deliveries_create, sending_begin, received_addresses, report_figure
):
    smtp = senders.smtp
    mailing = MailingFactory(subject="Hello {{ group.name }}")
    deliveries_create(mailing, ADDRESSES)
    senders.beat()
    worker = senders.start()
    sending_begin(mailing)
    kills = 0
    for threshold in (ADDRESSES // 5, ADDRESSES // 2):
        wait_for(lambda t=threshold: len(smtp.messages) >= t, timeout=120, interval=0.01)
        senders.kill(worker)
        kills += 1
        worker = senders.start()
    wait_for(lambda: Mailing.objects.get(pk=mailing.pk).status == Mailing.Status.SENT, timeout=180)
    time.sleep(0.5)
    counts = collections.Counter(received_addresses(smtp))
    duplicates = sum(n - 1 for n in counts.values())
    report_figure(f"crash safety: {ADDRESSES} addresses, {kills} kills, {duplicates} duplicates")
    assert set(counts) == {f"person{n}@example.org" for n in range(ADDRESSES)}
    assert duplicates <= kills
    assert Delivery.objects.filter(mailing=mailing, status="sent").count() == ADDRESSES
