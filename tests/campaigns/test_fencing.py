"""A send that stalls for longer than its claim: the sweep may hand the row to another worker
while the first is still waiting for the mail server. Results are then recorded without
corrupting the ledger, and a message that did go out is not sent again."""

import collections
import threading
import time

import pytest
from django.db import connection
from factories import MailingFactory

from campaigns.models import Delivery, Mailing
from campaigns.services import sending

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
    assert entered.wait(10)
    # Worker A is waiting for the server's reply to person0. Its claims look abandoned: the
    # sweep returns them to pending and worker B claims all three.
    assert sending.deliveries_sweep_stale(older_than=0, mailing_id=mailing.pk) == 3
    assert (
        len(sending.deliveries_claim_batch(mailing_id=mailing.pk, worker="worker-b", size=9)) == 3
    )
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
    assert sending.deliveries_sweep_stale(older_than=0, mailing_id=mailing.pk) == 2
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
    assert entered.wait(10)
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
    assert entered.wait(10)
    assert sending.deliveries_sweep_stale(older_than=0, mailing_id=mailing.pk) == 1
    assert (
        len(sending.deliveries_claim_batch(mailing_id=mailing.pk, worker="worker-b", size=9)) == 1
    )
    release.set()
    first.join(30)
    delivery = Delivery.objects.get(mailing=mailing)
    assert (delivery.status, delivery.claimed_by, delivery.attempts, delivery.last_error) == (
        "claimed",
        "worker-b",
        0,
        "",
    )


def test_the_sweep_leaves_a_live_workers_stalled_batch_alone(smtp, deliveries_create, settings):
    """A send that blocks for longer than MAILING_CLAIM_TIMEOUT (here half a second) is still
    well inside the claim timeout the sweep uses, which allows for the longest possible send."""
    settings.MAILING_CLAIM_TIMEOUT = 0.5
    settings.EMAIL_TIMEOUT = 2
    assert sending.claim_timeout() > sending.hold_seconds() + 11 * settings.EMAIL_TIMEOUT
    mailing = MailingFactory(status=Mailing.Status.SENDING)
    deliveries_create(mailing, 3)
    entered, release = threading.Event(), threading.Event()
    _stall_first_acceptance(smtp, entered, release)
    first = _send_in_thread(mailing, "worker-a")
    assert entered.wait(10)
    time.sleep(1.5)
    assert sending.deliveries_sweep_stale(older_than=sending.claim_timeout()) == 0
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
