"""Workers killed with SIGKILL mid-mailing: everything still arrives, and at most one message
per kill arrives twice."""

import collections
import datetime

import pytest
from factories import CouncilFactory, MailingFactory, RegionFactory
from polling import wait_for

from campaigns.models import Delivery, Mailing
from campaigns.services.lifecycle import mailing_start
from regions.models import Council, CouncilGroup, Election

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ADDRESSES = 2000
ELECTION_DAY = datetime.date(2027, 5, 6)
# Messages per second: slow enough that the mailing lasts about fifteen seconds, so that each
# kill lands while the worker is sending, not after the work is done.
RATE = 150


def _groups_with_elections(count):
    """`count` councils with elections on ELECTION_DAY, each with a Labour group and its
    contact address, in one region."""
    region = RegionFactory(name="Crash Region", slug="crash-region")
    councils = Council.objects.bulk_create(
        CouncilFactory.build(
            region=region, gss_code=f"K{n:08d}", slug=f"crash-{n}", name=f"Crash {n} Council"
        )
        for n in range(count)
    )
    Election.objects.bulk_create(
        Election(council=c, date=ELECTION_DAY, seats_up=10, labour_seats_up=4) for c in councils
    )
    CouncilGroup.objects.bulk_create(
        CouncilGroup(
            council=c, name=f"Crash {n} Labour Group", contact_email=f"group{n}@example.org"
        )
        for n, c in enumerate(councils)
    )
    return region


def test_killing_workers_twice_mid_send_loses_nothing_and_repeats_at_most_one_per_kill(
    senders, received_addresses, report_figure
):
    smtp = senders.smtp
    region = _groups_with_elections(ADDRESSES)
    mailing = MailingFactory(
        subject="Hello {{ group.name }}", election_date=ELECTION_DAY, regions=[region]
    )
    senders.beat()
    worker = senders.start(MAILING_RATE_LIMIT=RATE)
    assert mailing_start(mailing_id=mailing.pk)
    assert Delivery.objects.filter(mailing=mailing).count() == ADDRESSES

    def held_by(proc):
        return Delivery.objects.filter(
            mailing=mailing, status="claimed", claimed_by__contains=f":{proc.pid}:"
        ).count()

    kill_points = []
    threshold = ADDRESSES // 5
    for _ in range(2):
        wait_for(lambda t=threshold: len(smtp.messages) >= t, timeout=120, interval=0.01)
        # Kill it while it holds a claimed batch, part sent.
        wait_for(lambda w=worker: held_by(w) > 0, timeout=30, interval=0.01)
        received, held = len(smtp.messages), held_by(worker)
        senders.kill(worker)
        assert received < ADDRESSES, "the mailing ended before the kill"
        kill_points.append(f"{received} received, {held} claimed")
        worker = senders.start(MAILING_RATE_LIMIT=RATE)
        # Counted from the kill: the new worker may have sent some already when found ready.
        threshold = received + ADDRESSES // 10

    wait_for(lambda: Mailing.objects.get(pk=mailing.pk).status == Mailing.Status.SENT, timeout=180)
    # A repeat sent after the mailing was marked sent must be counted too. Stop the workers and
    # beat (each worker finishes the task in hand first), then the server: nothing more can
    # arrive after that.
    senders.stop_all()
    smtp.stop()
    counts = collections.Counter(received_addresses(smtp))
    duplicates = sum(n - 1 for n in counts.values())
    report_figure(
        f"crash safety: {ADDRESSES} addresses, 2 kills mid-send "
        f"({'; '.join(kill_points)}), {duplicates} duplicates"
    )
    assert set(counts) == {f"group{n}@example.org" for n in range(ADDRESSES)}
    assert duplicates <= len(kill_points)
    assert Delivery.objects.filter(mailing=mailing, status="sent").count() == ADDRESSES
    subjects = {message["Subject"] for message in list(smtp.messages)}
    assert "Hello Crash 1999 Labour Group" in subjects
