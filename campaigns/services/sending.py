"""The sending loop a worker runs for one mailing (campaigns.tasks.mailing_send): claim a
batch from the ledger, send it over one reused connection at the rate allowed, record each
result as it goes, and hand back what it did not get to. The ledger and its guarantees are
described in claims.py; the periodic sweep that restarts orphaned mailings is here too.
"""

from __future__ import annotations

import collections
import time

from django.conf import settings
from django.db import connection, transaction

from ..exceptions import MailingError
from ..models import Mailing
from ..ratelimit import effective_rate, heartbeat, is_alive, rate_slot
from ..smtp import Outbox, SendFailure
from .claims import (
    MAX_RATE_WAIT,
    WorkerHeartbeat,
    claim_timeout,
    deliveries_claim_batch,
    deliveries_release,
    deliveries_still_ours,
    deliveries_sweep_stale,
    delivery_record_refusal,
    delivery_record_sent,
    hold_seconds,
    retry_delay,
)
from .lifecycle import mailing_finish_if_done, mailing_pause, mailing_queue_senders
from .messages import Envelope, envelope_for

# How often a sending task re-reads the mailing's status, so pause and cancel take effect.
STATUS_CHECK_SECONDS = 1.0


def mailing_batch_size(mailing: Mailing) -> int:
    """How many rows a worker claims at once for this mailing."""
    size = settings.MAILING_BATCH_SIZE
    rate = effective_rate(mailing.rate_limit)
    if rate:
        # A batch should take well under the time a worker may hold it even when rate-limited.
        # (effective_rate is at most RATE_LIMIT_MAX, so this product is always finite.)
        size = min(size, max(1, int(min(rate * hold_seconds() / 4, size))))
    return size


def mailing_send_some(*, mailing_id: int, worker: str, seconds: float) -> float | None:
    """Send this mailing's due messages for about `seconds`.

    Returns None when this task is no longer needed (the mailing is finished, paused or
    cancelled), otherwise the delay after which it should run again.
    """
    # How long the heartbeat says a task is looking after the mailing; a lapse only means the
    # sweep queues another task, which is harmless.
    timeout = settings.MAILING_CLAIM_TIMEOUT
    deliveries_sweep_stale(older_than=claim_timeout(), mailing_id=mailing_id)
    deadline = time.monotonic() + seconds
    envelope = None
    with WorkerHeartbeat(worker), Outbox() as outbox:
        while time.monotonic() < deadline:
            mailing = Mailing.objects.filter(pk=mailing_id).first()
            if mailing is None or not mailing.is_sending:
                return None
            heartbeat(mailing_id=mailing_id, seconds=timeout)
            if envelope is None or (envelope.subject, envelope.body) != (
                mailing.subject,
                mailing.body,
            ):
                try:
                    envelope = envelope_for(mailing)
                except MailingError as exc:
                    # Started before its sender was checked: pause it for staff to see, rather
                    # than let every task fail before sending anything, for ever.
                    mailing_pause(mailing_id=mailing_id, reason=f"Paused: {exc}")
                    return None
            batch = deliveries_claim_batch(
                mailing_id=mailing_id, worker=worker, size=mailing_batch_size(mailing)
            )
            if not batch:
                wait = mailing_finish_if_done(mailing_id=mailing_id)
                if wait is not None:
                    heartbeat(mailing_id=mailing_id, seconds=wait + timeout)
                return wait
            wait = _send_batch(batch, envelope, outbox, worker=worker, rate=mailing.rate_limit)
            if wait is not None:
                heartbeat(mailing_id=mailing_id, seconds=wait + timeout)
                return wait
    return 0


def _send_batch(batch, envelope: Envelope, outbox: Outbox, *, worker: str, rate) -> float | None:
    """Send a claimed batch. Returns None when done, or a delay after which to carry on (the
    unsent rest of the batch has then been handed back)."""
    claimed_at = time.monotonic()
    hold_limit = hold_seconds()
    # Rows leave `queue` once their message is started; whatever is in it is still ours.
    queue = collections.deque(deliveries_still_ours(batch, worker))
    next_status_check = time.monotonic() + STATUS_CHECK_SECONDS
    with connection.cursor() as cursor:
        # Each "sent" record is its own commit; not waiting for the WAL flush makes that cheap.
        # A killed worker is unaffected (the commit is done); only a crash of PostgreSQL itself
        # could forget the last fraction of a second of records, and resend those messages.
        cursor.execute("SET synchronous_commit TO off")
        try:
            while queue:
                now = time.monotonic()
                if now - claimed_at > hold_limit:
                    deliveries_release([d.pk for d in queue], worker)
                    return 0
                if now >= next_status_check:
                    next_status_check = now + STATUS_CHECK_SECONDS
                    status = Mailing.objects.filter(pk=envelope.mailing_id).values_list(
                        "status", flat=True
                    )
                    if list(status) != [Mailing.Status.SENDING]:
                        deliveries_release([d.pk for d in queue], worker)
                        return None
                # The message is built, and the connection opened, before the rate slot is
                # taken, so that it goes at its slot's time.
                delivery = queue[0]
                message, message_id = envelope.message(
                    email=delivery.email, context=delivery.context, delivery_id=delivery.pk
                )
                not_connected = None
                try:
                    outbox.open()
                except SendFailure as failure:
                    not_connected = failure
                ok, wait = rate_slot(
                    mailing_id=envelope.mailing_id, mailing_rate=rate, max_wait=MAX_RATE_WAIT
                )
                if not ok:
                    deliveries_release([d.pk for d in queue], worker)
                    return wait
                if wait > 0:
                    time.sleep(wait)
                queue.popleft()
                following = queue[0].pk if queue else None
                try:
                    if not_connected is not None:
                        raise not_connected
                    outbox.send(message)
                except SendFailure as failure:
                    next_is_ours = delivery_record_refusal(
                        cursor,
                        delivery,
                        failure,
                        worker=worker,
                        following=following,
                        mailing_id=envelope.mailing_id,
                    )
                    if failure.unreachable:
                        # No server: only this message is charged an attempt; the rest of the
                        # batch goes back without using any up, to be tried after a pause.
                        delay = retry_delay(1)
                        deliveries_release([d.pk for d in queue], worker, delay=delay)
                        return delay
                else:
                    # Recorded at once, in its own autocommitted statement: a worker killed now
                    # loses at most this one record, and that message is the only one sent twice.
                    next_is_ours = delivery_record_sent(
                        cursor, delivery, message_id, worker=worker, following=following
                    )
                if queue and not next_is_ours:
                    # An unsubscribe, a cancel, or the sweep gave our rows to another worker
                    # while we were sending: look at the rest of the batch again.
                    queue = collections.deque(deliveries_still_ours(list(queue), worker))
        finally:
            # Only these records: the worker's other work commits as usual.
            cursor.execute("SET synchronous_commit TO DEFAULT")
    return None


def mailings_sweep() -> list[int]:
    """Periodic clean-up: return stale claims to pending and restart sending for mailings that
    no task is looking after any more (their workers were killed). Returns those mailings."""
    deliveries_sweep_stale(older_than=claim_timeout())
    restarted = []
    for mailing_id in Mailing.objects.filter(status=Mailing.Status.SENDING).values_list(
        "pk", flat=True
    ):
        if not is_alive(mailing_id=mailing_id):
            heartbeat(mailing_id=mailing_id, seconds=settings.MAILING_CLAIM_TIMEOUT)
            with transaction.atomic():
                mailing_queue_senders(mailing_id)
            restarted.append(mailing_id)
    return restarted
