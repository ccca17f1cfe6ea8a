"""Sending mailings: exactly once per address, as fast as the mail server allows.

The Delivery table is the ledger. Starting a mailing snapshots its audience into one row per
address (unique in the database). Celery tasks (campaigns.tasks.mailing_send) then repeatedly
claim a small batch of due pending rows with SELECT ... FOR UPDATE SKIP LOCKED, send them over
one reused connection and record each result in its own autocommitted UPDATE straight after the
server accepts the message. A worker killed at any moment therefore leaves at most one message
sent but not recorded (it is sent again later); the rest of its batch stays "claimed" until
deliveries_sweep_stale returns it to pending.

Each sending task keeps a liveness key in Redis fresh from a thread (WorkerHeartbeat), so the
claims of a task whose process died go back to pending about HEARTBEAT_LIFETIME seconds later.
While its key is there, a live task's claims are swept only after claim_timeout(): a worker
starts no message from a batch after hold_seconds() (it hands the rest back), and
claim_timeout() is that plus twice the longest one message can take. claim_timeout() does not
protect a live task whose key is lost (Redis restarted without its data, flushed, or out of
reach for longer than HEARTBEAT_LIFETIME): the sweep takes it for dead and returns its claims
older than HEARTBEAT_LIFETIME to pending at once, and the fencing below stops it before its next
message, so at most the message it has in flight is sent twice. Should a send block even
longer than claim_timeout(), the results are fenced: failures are recorded only on rows still
claimed by the worker that tried, a late "sent" is recorded whoever holds the row now (the
message did go out), and before each message the worker checks, in the same statement that
recorded the previous one, that the next row is still its own and its address not suppressed.
"""

from __future__ import annotations

import json
import logging
import random
import threading
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from ..models import Delivery, Suppression
from ..ratelimit import worker_gone, worker_heartbeat, workers_alive
from ..smtp import PERMANENT, SendFailure
from .suppression import suppression_add

log = logging.getLogger(__name__)

DStatus = Delivery.Status
TABLE = Delivery._meta.db_table
SUPPRESSION_TABLE = Suppression._meta.db_table
# A sending task's liveness key is refreshed this often and lasts this long: claims of a task
# whose process died are swept within about HEARTBEAT_LIFETIME plus the sweep's interval.
HEARTBEAT_EVERY = 2.0
HEARTBEAT_LIFETIME = 10.0
# Longest a task sleeps for the rate limit before handing its batch back and re-queuing.
MAX_RATE_WAIT = 2.0
# Replies one message may wait for, each for up to EMAIL_TIMEOUT, when it has to open the
# connection first: connect, greeting, EHLO, STARTTLS, EHLO, AUTH (two), MAIL, RCPT, DATA and
# the end of the message.
SMTP_WAITS_PER_MESSAGE = 11


def hold_seconds() -> float:
    """How long a worker goes on starting messages from one claimed batch."""
    return settings.MAILING_CLAIM_TIMEOUT / 2


def longest_send() -> float:
    """The longest one message can keep a worker busy: its rate-limit wait and its send."""
    return MAX_RATE_WAIT + SMTP_WAITS_PER_MESSAGE * settings.EMAIL_TIMEOUT


def claim_timeout() -> float:
    """Age after which a claim is taken to be abandoned (its worker died) and swept back to
    pending. A live worker may still be in the last message it started after hold_seconds();
    twice the longest send on top of that leaves a comfortable margin."""
    return max(settings.MAILING_CLAIM_TIMEOUT, hold_seconds() + 2 * longest_send())


# --- the snapshot ----------------------------------------------------------------------------


def deliveries_snapshot(*, mailing_id: int, audience) -> None:
    """One pending row per address of the audience, one per suppressed address (so the
    report shows who was left out), and one letter to print per group reached only by post,
    each with the merge values it will be sent with."""
    pending = DStatus.PENDING.value
    rows = [
        {"email": r.email, "context": r.context, "group_id": r.group_id, "status": pending}
        for r in audience.recipients
    ]
    rows += [
        {
            "email": email,
            "context": {},
            "group_id": audience.suppressed_groups.get(email),
            "status": DStatus.SUPPRESSED.value,
        }
        for email in audience.suppressed
    ]
    rows += [
        {
            "email": "",
            "context": letter.context,
            "group_id": letter.group_id,
            "status": DStatus.TO_PRINT.value,
            "channel": Delivery.Channel.POST.value,
        }
        for letter in audience.letters
    ]
    _deliveries_insert(mailing_id, rows)


def _deliveries_insert(mailing_id: int, rows: list[dict]) -> None:
    """Write the snapshot's deliveries in one statement: the rows travel as one JSON array that
    PostgreSQL unpacks, which takes about half the time of bulk_create's model instances and
    parameters (0.5 s rather than 1.1 s for ten thousand addresses). A row already there is
    left alone."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {TABLE} (mailing_id, email, group_id, context, status, attempts,
                                 next_attempt_at, claimed_by, message_id, last_error, channel)
            SELECT %s, r.email, r.group_id, r.context, r.status, 0, %s, '', '', '',
                   coalesce(r.channel, 'email')
            FROM jsonb_to_recordset(%s::jsonb)
                 AS r(email text, group_id integer, context jsonb, status text, channel text)
            ON CONFLICT DO NOTHING
            """,  # noqa: S608 - the table name is the model's, not input
            [mailing_id, timezone.now(), json.dumps(rows)],
        )


# --- claiming --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery row as claimed for sending: what sending and recording its message need.
    (Not a Delivery instance: building a model and running its init signals for every message
    costs far more than these few fields.)"""

    pk: int
    email: str
    context: dict
    attempts: int


def deliveries_claim_batch(*, mailing_id: int, worker: str, size: int) -> list[Claimed]:
    """Claim up to `size` due pending rows for this worker, in one statement (one transaction).

    The batch is a MATERIALIZED CTE so the LIMITed locking select runs exactly once. SKIP
    LOCKED lets any number of workers claim at once without waiting for or overlapping each
    other.
    """
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH batch AS MATERIALIZED (
                SELECT id FROM {TABLE}
                WHERE mailing_id = %s AND status = %s AND next_attempt_at <= %s
                ORDER BY next_attempt_at, id
                LIMIT %s
                FOR UPDATE SKIP LOCKED
            )
            UPDATE {TABLE} AS d SET status = %s, claimed_at = %s, claimed_by = %s
            FROM batch WHERE d.id = batch.id
            RETURNING d.id, d.email, d.context, d.attempts
            """,
            [mailing_id, DStatus.PENDING, now, size, DStatus.CLAIMED, now, worker],
        )
        rows = cursor.fetchall()
    return [
        Claimed(pk, email, json.loads(context) if isinstance(context, str) else context, attempts)
        for pk, email, context, attempts in sorted(rows)
    ]


def deliveries_still_ours(deliveries: list[Claimed], worker: str) -> list[Claimed]:
    """The deliveries this worker may still send, in order: rows it still holds whose address
    is not suppressed. Those suppressed since they were claimed are marked so."""
    if not deliveries:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT d.id, EXISTS (SELECT 1 FROM {SUPPRESSION_TABLE} AS s"
            " WHERE lower(s.email) = lower(d.email))"
            f" FROM {TABLE} AS d WHERE d.id = ANY(%s) AND d.status = %s AND d.claimed_by = %s",
            [[d.pk for d in deliveries], DStatus.CLAIMED, worker],
        )
        ours = dict(cursor.fetchall())
    suppressed = [pk for pk, is_suppressed in ours.items() if is_suppressed]
    if suppressed:
        Delivery.objects.filter(
            pk__in=suppressed, status=DStatus.CLAIMED, claimed_by=worker
        ).update(status=DStatus.SUPPRESSED, claimed_by="")
    return [d for d in deliveries if d.pk in ours and not ours[d.pk]]


def deliveries_release(ids: list[int], worker: str, *, delay: float = 0) -> None:
    """Hand back claimed rows this worker did not get to (attempts unchanged)."""
    if not ids:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {TABLE} SET status = %s, claimed_at = NULL, claimed_by = '',"
            " next_attempt_at = %s WHERE id = ANY(%s) AND status = %s AND claimed_by = %s",
            [
                DStatus.PENDING,
                timezone.now() + timedelta(seconds=delay),
                ids,
                DStatus.CLAIMED,
                worker,
            ],
        )


def deliveries_sweep_stale(*, older_than: float, mailing_id: int | None = None) -> int:
    """Return claims older than `older_than` seconds to pending, whoever holds them, and the
    claims of tasks whose heartbeat has lapsed (their process died) as soon as it has."""
    claimed = Delivery.objects.filter(status=DStatus.CLAIMED)
    if mailing_id is not None:
        claimed = claimed.filter(mailing_id=mailing_id)
    now = timezone.now()
    # A task's heartbeat is in place before it claims anything, so any claim older than one
    # heartbeat lifetime belongs to a task that either beats or is gone.
    settled = claimed.filter(claimed_at__lt=now - timedelta(seconds=HEARTBEAT_LIFETIME))
    holders = list(settled.values_list("claimed_by", flat=True).distinct())
    gone = set(holders) - workers_alive(holders)
    stale = claimed.filter(claimed_at__lt=now - timedelta(seconds=older_than)) | settled.filter(
        claimed_by__in=gone
    )
    return stale.update(status=DStatus.PENDING, claimed_at=None, claimed_by="")


class WorkerHeartbeat:
    """Keeps a sending task's liveness key fresh from a thread while the task runs, so that
    its claims are swept soon after its process dies, but never while it lives, however long a
    mail server keeps it waiting."""

    def __init__(self, worker: str):
        self.worker = worker
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="sending-heartbeat", daemon=True)

    def __enter__(self):
        worker_heartbeat(worker=self.worker, seconds=HEARTBEAT_LIFETIME)
        self._thread.start()
        return self

    def _beat(self):
        while not self._stop.wait(HEARTBEAT_EVERY):
            try:
                worker_heartbeat(worker=self.worker, seconds=HEARTBEAT_LIFETIME)
            except Exception:  # Redis away for a moment: the next beat tries again.
                log.warning("sending heartbeat for %s failed", self.worker, exc_info=True)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        worker_gone(worker=self.worker)


# --- recording results -----------------------------------------------------------------------

# Whether the row to send next (id, worker) is still this worker's and its address is not
# suppressed. Added to the statement recording each result, so checking costs no round trip.
_NEXT_IS_OURS = f"""
    SELECT EXISTS (
        SELECT 1 FROM {TABLE} AS n
        WHERE n.id = %s AND n.status = %s AND n.claimed_by = %s
        AND NOT EXISTS (
            SELECT 1 FROM {SUPPRESSION_TABLE} AS s WHERE lower(s.email) = lower(n.email)
        )
    )
"""


def _record(cursor, update: str, params: list, *, worker: str, following: int | None) -> bool:
    """Run a recording UPDATE; return whether the row `following` may be sent next."""
    cursor.execute(
        f"WITH recorded AS ({update} RETURNING 1) {_NEXT_IS_OURS}",
        [*params, following, DStatus.CLAIMED, worker],
    )
    return cursor.fetchone()[0]


def delivery_record_sent(cursor, delivery: Claimed, message_id: str, *, worker, following) -> bool:
    """The server took the message. Recorded whoever holds the row now: if a stalled send
    outlived the claim and the row went to another worker, the message did still go out, and
    marking it sent stops the other worker sending it again (it checks before each message).
    A row another worker has already recorded as sent is left as it is. The row keeps the
    name of the worker that sent it in claimed_by. Returns whether `following` may be sent
    next."""
    return _record(
        cursor,
        f"UPDATE {TABLE} SET status = %s, sent_at = %s, message_id = %s, attempts = %s,"
        " last_error = '', claimed_by = %s WHERE id = %s AND status <> %s",
        [
            DStatus.SENT,
            timezone.now(),
            message_id,
            delivery.attempts + 1,
            worker,
            delivery.pk,
            DStatus.SENT,
        ],
        worker=worker,
        following=following,
    )


def retry_delay(attempts: int) -> float:
    """Exponential back-off with jitter: about base, 2 x base, 4 x base... capped."""
    base = settings.MAILING_RETRY_BASE_SECONDS
    delay = min(settings.MAILING_RETRY_MAX_SECONDS, base * 2 ** max(0, attempts - 1))
    return delay * random.uniform(0.75, 1.25)


def _record_failure(cursor, delivery: Claimed, failure: SendFailure, *, worker, following):
    """Only on a row this worker still holds: if the claim went to another worker meanwhile,
    this attempt says nothing about theirs. Returns whether `following` may be sent next."""
    attempts = delivery.attempts + 1
    final = failure.kind == PERMANENT or attempts >= settings.MAILING_MAX_ATTEMPTS
    return _record(
        cursor,
        f"UPDATE {TABLE} SET status = %s, attempts = %s, last_error = %s, next_attempt_at = %s,"
        " claimed_at = NULL, claimed_by = '' WHERE id = %s AND status = %s AND claimed_by = %s",
        [
            DStatus.FAILED if final else DStatus.PENDING,
            attempts,
            str(failure)[:2000],
            timezone.now() + timedelta(seconds=0 if final else retry_delay(attempts)),
            delivery.pk,
            DStatus.CLAIMED,
            worker,
        ],
        worker=worker,
        following=following,
    )


def delivery_record_refusal(cursor, delivery: Claimed, failure, *, worker, following, mailing_id):
    """Record a failed send. When the server said the mailbox does not exist, the address goes
    on the suppression list as a hard bounce in the same transaction, so that neither this
    mailing's later retries nor any other mailing writes to it again. Returns whether
    `following` may be sent next."""
    if not failure.hard_bounce:
        return _record_failure(cursor, delivery, failure, worker=worker, following=following)
    with transaction.atomic():
        next_is_ours = _record_failure(
            cursor, delivery, failure, worker=worker, following=following
        )
        suppression_add(
            email=delivery.email,
            reason=Suppression.Reason.HARD_BOUNCE,
            mailing_id=mailing_id,
            note=f"Refused by the mail server: {failure}",
        )
    return next_is_ours
