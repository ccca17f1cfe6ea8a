"""A send that stalls for longer than its claim: the sweep may hand the row to another worker
while the first is still waiting for the mail server. Results are then recorded without
corrupting the ledger, and a message that did go out is not sent again."""

import collections
import datetime
import threading
import time

import pytest
from django.db import connection
from django.utils import timezone
from factories import MailingFactory
from polling import wait_for

from campaigns.models import Delivery, Mailing, Suppression
from campaigns.ratelimit import worker_gone, worker_heartbeat, workers_alive
from campaigns.services import claims, sending

pytestmark = pytest.mark.django_db(transaction=True)


class StalledReply(str):
    """An SMTP reply the server holds back until released: aiosmtpd asks whether there is an
    error reply to give (bool()) before answering the message, so that is where it waits."""

    def __new__(cls, reply, entered, release):
        value = super().__new__(cls, reply)
        value.entered, value.release = entered, release
        return value

    def __bool__(self):
        self.entered.set()
        assert self.release.wait(30), "the test never released the stalled reply"
        return True


def _stall_first_acceptance(smtp, entered, release):
    """Hold the server's "250 accepted" for the first message until `release` is set."""
    original = smtp._received
    stalled = []

    def received(*args):
        if not stalled:
            stalled.append(True)
            entered.set()
            assert release.wait(30), "the test never released the stalled message"
        original(*args)

    smtp._received = received


def _send_in_thread(mailing, worker):
    def run():
        try:
            sending.mailing_send_some(mailing_id=mailing.pk, worker=worker, seconds=30)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _states(mailing):
    return {
        d.email: (d.status, d.claimed_by)
        for d in Delivery.objects.filter(mailing=mailing).order_by("email")
    }


def test_late_sent_on_a_reclaimed_row_is_recorded_and_never_sent_again(smtp, deliveries_create):
    mailing = MailingFactory(status=Mailing.Status.SENDING)
    deliveries_create(mailing, 3)
    entered, release = threading.Event(), threading.Event()
    _stall_first_acceptance(smtp, entered, release)
    first = _send_in_thread(mailing, "worker-a")
    assert entered.wait(30)
    # Worker A is waiting for the server's reply to person0. Its claims look abandoned: the
    # sweep returns them to pending and worker B claims all three.
    assert claims.deliveries_sweep_stale(older_than=0, mailing_id=mailing.pk) == 3
    assert len(claims.deliveries_claim_batch(mailing_id=mailing.pk, worker="worker-b", size=9)) == 3
    release.set()
    first.join(30)
    assert not first.is_alive()
    # The message went out, so the row is sent, by A; A sent nothing of B's and left B's
    # claims alone.
    assert [m.rcpt_tos for m in smtp.messages] == [["person0@example.org"]]
    assert _states(mailing) == {
        "person0@example.org": ("sent", "worker-a"),
        "person1@example.org": ("claimed", "worker-b"),
        "person2@example.org": ("claimed", "worker-b"),
    }
    # B dies. Its claims are swept back; the sent row stays sent, and the next worker sends
    # only the other two.
    assert claims.deliveries_sweep_stale(older_than=0, mailing_id=mailing.pk) == 2
    assert sending.mailing_send_some(mailing_id=mailing.pk, worker="worker-c", seconds=30) is None
    smtp.wait_for(3)
    counts = collections.Counter(m.rcpt_tos[0] for m in smtp.messages)
    assert counts == {f"person{n}@example.org": 1 for n in range(3)}
    assert Delivery.objects.filter(mailing=mailing, status="sent").count() == 3
    assert Mailing.objects.get(pk=mailing.pk).status == Mailing.Status.SENT


def test_worker_stops_sending_rows_taken_over_by_another_worker(smtp, deliveries_create):
    mailing = MailingFactory(status=Mailing.Status.SENDING)
    deliveries_create(mailing, 5)
    entered, release = threading.Event(), threading.Event()
    _stall_first_acceptance(smtp, entered, release)
    first = _send_in_thread(mailing, "worker-a")
    assert entered.wait(30)
    # Only the rows A has not started are taken over (as if B swept and claimed them).
    Delivery.objects.filter(mailing=mailing).exclude(email="person0@example.org").update(
        claimed_by="worker-b"
    )
    release.set()
    first.join(30)
    assert [m.rcpt_tos for m in smtp.messages] == [["person0@example.org"]]
    assert (
        Delivery.objects.filter(mailing=mailing, claimed_by="worker-b", status="claimed").count()
        == 4
    )


@pytest.mark.parametrize("reply", ["451 4.3.0 Try again later", "550 5.1.1 No such mailbox"])
def test_late_failure_leaves_the_other_workers_claim_alone(smtp, deliveries_create, reply):
    mailing = MailingFactory(status=Mailing.Status.SENDING)
    deliveries_create(mailing, 1)
    entered, release = threading.Event(), threading.Event()
    smtp.reply_error = StalledReply(reply, entered, release)
    first = _send_in_thread(mailing, "worker-a")
    assert entered.wait(30)
    assert claims.deliveries_sweep_stale(older_than=0, mailing_id=mailing.pk) == 1
    assert len(claims.deliveries_claim_batch(mailing_id=mailing.pk, worker="worker-b", size=9)) == 1
    release.set()
    first.join(30)
    delivery = Delivery.objects.get(mailing=mailing)
    # The attempt is not recorded on the other worker's claim. A reply saying the mailbox does
    # not exist still puts the address on the suppression list, which stops worker-b too.
    hard_bounce = reply.startswith("550")
    assert (delivery.status, delivery.claimed_by, delivery.attempts, delivery.last_error) == (
        "suppressed" if hard_bounce else "claimed",
        "worker-b",
        0,
        "",
    )
    assert Suppression.objects.filter(email="person0@example.org").exists() is hard_bounce


def test_the_sweep_leaves_a_live_workers_stalled_batch_alone(smtp, deliveries_create, settings):
    """A send that blocks for longer than MAILING_CLAIM_TIMEOUT (here half a second) is still
    well inside the claim timeout the sweep uses, which allows for the longest possible send."""
    settings.MAILING_CLAIM_TIMEOUT = 0.5
    settings.EMAIL_TIMEOUT = 2
    assert claims.claim_timeout() > claims.hold_seconds() + 11 * settings.EMAIL_TIMEOUT
    mailing = MailingFactory(status=Mailing.Status.SENDING)
    deliveries_create(mailing, 3)
    entered, release = threading.Event(), threading.Event()
    _stall_first_acceptance(smtp, entered, release)
    first = _send_in_thread(mailing, "worker-a")
    assert entered.wait(30)
    stalled_at = time.monotonic()  # A took its batch, and started its hold on it, before this
    # Wait, however long it takes, until A has held its batch past hold_seconds() by its own
    # clock and its claims are older than MAILING_CLAIM_TIMEOUT as the sweep measures them.
    too_old = datetime.timedelta(seconds=settings.MAILING_CLAIM_TIMEOUT)
    wait_for(
        lambda: (
            time.monotonic() - stalled_at > claims.hold_seconds()
            and not Delivery.objects.filter(
                mailing=mailing, status="claimed", claimed_at__gte=timezone.now() - too_old
            ).exists()
        )
    )
    assert claims.deliveries_sweep_stale(older_than=claims.claim_timeout()) == 0
    assert set(_states(mailing).values()) == {("claimed", "worker-a")}
    release.set()
    first.join(30)
    # Having held its batch past hold_seconds(), A handed the rest back; its next task
    # (run here directly) sends them.
    assert _states(mailing)["person1@example.org"] == ("pending", "")
    assert sending.mailing_send_some(mailing_id=mailing.pk, worker="worker-a", seconds=30) is None
    smtp.wait_for(3)
    assert sorted(m.rcpt_tos[0] for m in smtp.messages) == [
        f"person{n}@example.org" for n in range(3)
    ]
    assert Mailing.objects.get(pk=mailing.pk).status == Mailing.Status.SENT


# --- claims of a task whose process died ---------------------------------------------------------


def _claim(mailing, rows, worker, seconds_ago):
    ids = list(
        Delivery.objects.filter(mailing=mailing, status="pending").values_list("pk", flat=True)
    )[:rows]
    Delivery.objects.filter(pk__in=ids).update(
        status="claimed",
        claimed_by=worker,
        claimed_at=timezone.now() - datetime.timedelta(seconds=seconds_ago),
    )
    return ids


def test_claims_of_a_task_whose_heartbeat_lapsed_go_back_long_before_the_claim_timeout(
    deliveries_create,
):
    mailing = MailingFactory(status=Mailing.Status.SENDING)
    deliveries_create(mailing, 10)
    age = claims.HEARTBEAT_LIFETIME + 5  # far younger than claim_timeout()
    assert age < claims.claim_timeout()
    dead = _claim(mailing, 3, "host:101:dead", age)
    live = _claim(mailing, 2, "host:102:live", age)
    just_claimed = _claim(mailing, 2, "host:103:starting", 0)
    worker_heartbeat(worker="host:102:live", seconds=30)

    claims.deliveries_sweep_stale(older_than=claims.claim_timeout())

    status = dict(Delivery.objects.values_list("pk", "status"))
    assert {status[pk] for pk in dead} == {"pending"}
    assert {status[pk] for pk in live} == {"claimed"}
    # A claim younger than a heartbeat's lifetime is left alone, heartbeat or not.
    assert {status[pk] for pk in just_claimed} == {"claimed"}


def test_a_running_task_keeps_beating_while_it_waits_and_stops_when_it_ends(monkeypatch):
    monkeypatch.setattr(claims, "HEARTBEAT_EVERY", 0.05)
    task, never = "host:104:waiting", "host:105:never"
    with claims.WorkerHeartbeat(task):
        assert workers_alive([task, never]) == {task}
        # The task does nothing here but wait. Each time its key goes (as if it had expired),
        # only the heartbeat thread can bring it back, and does, again and again.
        for _ in range(3):
            worker_gone(worker=task)
            wait_for(lambda: workers_alive([task, never]) == {task}, interval=0.01)
    # The thread has stopped before the key is removed, so nothing brings it back.
    assert workers_alive([task]) == set()
