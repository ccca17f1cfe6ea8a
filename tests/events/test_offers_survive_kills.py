"""Offers of freed places survive a worker killed in the middle of beat's job: every offer not
taken in time passes to the next person once, and each person gets one email per offer, since
each offer is written with its outbox notice in one transaction, keyed by the place."""

import collections
import datetime
import os
import signal

import pytest
from django.utils import timezone
from factories import CouncillorFactory, EventFactory, SessionFactory, TimeSlotFactory
from polling import wait_for
from workers import notice_workers_on_own_queue

from alc_portal.celery import app as celery_app
from alc_portal.mailcatcher import SmtpCatcher
from events.models import Booking, Place
from members.models import Notice, User

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SESSIONS = 150


@pytest.fixture
def smtp():
    catcher = SmtpCatcher().start()
    yield catcher
    catcher.stop()


@pytest.fixture
def offer_workers(smtp, monkeypatch):
    """Workers of our own, on a queue of their own, sending to `smtp`."""
    with notice_workers_on_own_queue(smtp, monkeypatch, queue_prefix="offers-test") as start:
        yield start


def _people(council, prefix, count):
    users = User.objects.bulk_create(
        User(email=f"{prefix}{n}@example.org", full_name=f"{prefix.title()} {n}", password="!")
        for n in range(count)
    )
    CouncillorFactory._meta.model.objects.bulk_create(
        CouncillorFactory._meta.model(user=user, council=council) for user in users
    )
    return users


def _offers_past_their_time(council_x):
    """SESSIONS sessions of one place each: on each, an offer made to one person and not taken
    by its time, and another person waiting next."""
    event = EventFactory(capacity=None)
    slot = TimeSlotFactory(event=event)
    sessions = [
        SessionFactory(slot=slot, event=event, capacity=1, title=f"Workshop {n}")
        for n in range(SESSIONS)
    ]
    offered, waiting = _people(council_x, "offered", SESSIONS), _people(council_x, "next", SESSIONS)
    made = Booking.objects.bulk_create(
        Booking(event=event, user=user) for user in offered + waiting
    )
    by_user = {b.user_id: b for b in made}
    late = timezone.now() - datetime.timedelta(hours=1)
    places = []
    for session, first, second in zip(sessions, offered, waiting, strict=True):
        common = {"event": event, "session": session, "slot": slot}
        places.append(
            Place(
                booking=by_user[first.pk],
                status=Place.Status.OFFERED,
                requested_at=late - datetime.timedelta(days=2),
                offered_at=late - datetime.timedelta(days=2),
                offer_expires_at=late,
                **common,
            )
        )
        places.append(
            Place(
                booking=by_user[second.pk],
                status=Place.Status.WAITING,
                requested_at=late - datetime.timedelta(days=1),
                **common,
            )
        )
    Place.objects.bulk_create(places)
    return waiting


def test_a_worker_killed_passing_offers_on_loses_none_and_writes_to_each_person_once(
    council_x, smtp, offer_workers, report_figure
):
    waiting = _offers_past_their_time(council_x)
    first = offer_workers("offers-first")
    celery_app.send_task("events.tasks.offers_expire")
    # Some offers have passed on (each committed with its notice); kill the job midway.
    wait_for(lambda: Notice.objects.filter(kind="event_place_offered").count() >= 10, timeout=60)
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    passed_at_kill = Place.objects.filter(status=Place.Status.LAPSED).count()
    assert passed_at_kill < SESSIONS, "the job finished before it could be killed"
    assert Notice.objects.filter(kind="event_place_offered").count() == passed_at_kill

    # Beat runs the job again a few minutes later, on another worker; and its outbox sweep.
    offer_workers("offers-second")
    celery_app.send_task("events.tasks.offers_expire")
    wait_for(lambda: not Place.objects.filter(status=Place.Status.WAITING).exists(), timeout=120)

    def all_sent():
        celery_app.send_task("members.tasks.notices_sweep")
        return Notice.objects.filter(status=Notice.Status.SENT).count() == SESSIONS

    wait_for(all_sent, timeout=120, interval=2)
    assert Place.objects.filter(status=Place.Status.LAPSED).count() == SESSIONS
    offered_now = Place.objects.filter(status=Place.Status.OFFERED)
    assert sorted(offered_now.values_list("booking__user__email", flat=True)) == sorted(
        u.email for u in waiting
    )
    received = collections.Counter(m.rcpt_tos[0] for m in smtp.messages)
    assert received == collections.Counter({u.email: 1 for u in waiting})
    report_figure(
        f"offers: {SESSIONS} offers passed on, worker killed after {passed_at_kill}; "
        f"{sum(received.values())} emails, none twice"
    )
