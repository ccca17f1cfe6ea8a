"""A scheduled mailing is started by celery beat's mailings_start_due task at its time, not
before, and delivered by a worker."""

import collections
import time
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from factories import CouncilFactory, CouncilGroupFactory, MailingFactory, RegionFactory
from polling import wait_for

from campaigns.models import Mailing
from campaigns.services import sending

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

AHEAD = 8  # seconds: time for beat and the worker to start, and to look several times


def test_beat_starts_a_scheduled_mailing_at_its_time_and_not_before(
    senders, monkeypatch, received_addresses
):
    region = RegionFactory(name=f"Region {uuid.uuid4().hex[:8]}")
    addresses = {f"group{n}@scheduled.example.org" for n in range(3)}
    for address in sorted(addresses):
        CouncilGroupFactory(council=CouncilFactory(region=region), contact_email=address)
    mailing = MailingFactory(recipients=["contact"], regions=[region])
    arrivals = []
    original = senders.smtp._received

    def timed(*args):
        arrivals.append(timezone.now())
        original(*args)

    senders.smtp._received = timed
    when = timezone.now() + timedelta(seconds=AHEAD)
    sending.mailing_schedule(mailing_id=mailing.pk, when=when)
    # Beat looks for due mailings every second here (every minute by default).
    monkeypatch.setenv("MAILING_SCHEDULE_CHECK_SECONDS", "1")
    senders.start()
    senders.beat()
    while timezone.now() < when - timedelta(seconds=0.5):
        assert Mailing.objects.get(pk=mailing.pk).status == Mailing.Status.SCHEDULED
        assert not arrivals
        time.sleep(0.2)
    wait_for(lambda: Mailing.objects.get(pk=mailing.pk).status == Mailing.Status.SENT, timeout=60)
    mailing.refresh_from_db()
    assert mailing.started_at >= when
    assert min(arrivals) >= when
    assert collections.Counter(received_addresses(senders.smtp)) == dict.fromkeys(addresses, 1)
    # Beat ran with the scheduler production uses, which keeps the schedule in the database
    # (it writes run counts back only every few minutes, so those are not checked).
    check = PeriodicTask.objects.get(task="campaigns.tasks.mailings_start_due")
    assert (check.interval.every, check.interval.period) == (1, "seconds")
