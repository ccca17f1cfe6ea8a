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

import collections
import json
import logging
import random
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from email.utils import formataddr, make_msgid, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.db.models import Count, Min, Q
from django.db.models.functions import Lower
from django.utils import timezone

from regions.models import CouncilGroup

from ..audience import audience_resolve
from ..models import Delivery, Mailing, Suppression
from ..ratelimit import (
    effective_rate,
    heartbeat,
    is_alive,
    rate_slot,
    worker_gone,
    worker_heartbeat,
    workers_alive,
)
from ..rendering import render_message, template_errors
from ..smtp import PERMANENT, MimeBuilder, Outbox, SendFailure
from ..unsubscribe import PreviewLinks, UnsubscribeLinks
from . import notifications
from .suppression import suppression_add

log = logging.getLogger(__name__)

Status = Mailing.Status
DStatus = Delivery.Status
TABLE = Delivery._meta.db_table
SUPPRESSION_TABLE = Suppression._meta.db_table
# How often a sending task re-reads the mailing's status, so pause and cancel take effect.
STATUS_CHECK_SECONDS = 1.0
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


class MailingError(Exception):
    """The mailing cannot be started as it stands; the message says why."""


class EmptyAudience(MailingError):
    """The audience rule picks no address that may be written to."""

    def __init__(self):
        super().__init__("Nobody to send to: the audience has no address that may be written to.")


def envelope_for(mailing: Mailing) -> Envelope:
    """The mailing's envelope, or MailingError when its sender or reply-to cannot go into an
    email header (a line break in the name, say). Every start builds it once, so such a
    mailing is refused with a message rather than left sending with workers that cannot."""
    try:
        return Envelope.for_mailing(mailing)
    except (ValueError, TypeError, UnicodeError) as exc:
        raise MailingError(f"The sender's name or reply-to address can't be used: {exc}") from exc


def _check_sendable(mailing: Mailing) -> None:
    """Raise MailingError unless every message of the mailing can be made."""
    errors = template_errors(mailing.subject, mailing.body)
    if errors:
        raise MailingError("; ".join(errors))
    envelope_for(mailing)


# --- starting and controlling ----------------------------------------------------------------


def _locked(mailing_id: int) -> Mailing:
    return Mailing.objects.select_for_update().get(pk=mailing_id)


def _queue_senders(mailing_id: int) -> None:
    from ..tasks import mailing_send

    def queue():
        for _ in range(max(1, settings.MAILING_PARALLEL_TASKS)):
            mailing_send.delay(mailing_id)

    transaction.on_commit(queue)


def mailing_start(*, mailing_id: int, started_by=None) -> bool:
    """Snapshot the audience and start sending. Returns False if the mailing was already
    started (or may not be: a representative's draft without approval).

    Two people pressing "send" at once: the row lock makes the second wait, then see SENDING
    and return False, so the audience is snapshotted and sent once.
    """
    with transaction.atomic():
        mailing = _locked(mailing_id)
        if mailing.status not in (Status.DRAFT, Status.SCHEDULED):
            return False
        if mailing.owner_region_id and not mailing.approved_by_id:
            return False
        _check_sendable(mailing)
        audience = audience_resolve(mailing)
        if not audience.recipients:
            raise EmptyAudience
        rows = [
            {"email": r.email, "context": r.context, "group_id": r.group_id, "status": PENDING}
            for r in audience.recipients
        ]
        # Suppressed addresses are recorded too, so the report shows who was left out.
        rows += [
            {
                "email": email,
                "context": {},
                "group_id": audience.suppressed_groups.get(email),
                "status": DStatus.SUPPRESSED.value,
            }
            for email in audience.suppressed
        ]
        _deliveries_insert(mailing.pk, rows)
        mailing.status = Status.SENDING
        mailing.started_at = timezone.now()
        mailing.schedule_problem = ""
        mailing.groups_without_address = _groups_without_address(audience)
        mailing._history_user = started_by
        mailing._change_reason = f"Sending started to {len(audience.recipients)} addresses"
        mailing.save(
            update_fields=["status", "started_at", "schedule_problem", "groups_without_address"]
        )
        _queue_senders(mailing.pk)
        notifications.mailing_notify_on_commit(mailing=mailing, event=notifications.STARTED)
    return True


PENDING = DStatus.PENDING.value


def _deliveries_insert(mailing_id: int, rows: list[dict]) -> None:
    """Write the snapshot's deliveries in one statement: the rows travel as one JSON array that
    PostgreSQL unpacks, which takes about half the time of bulk_create's model instances and
    parameters (0.5 s rather than 1.1 s for ten thousand addresses). A row already there is
    left alone."""
    table = Delivery._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {table} (mailing_id, email, group_id, context, status, attempts,
                                 next_attempt_at, claimed_by, message_id, last_error)
            SELECT %s, r.email, r.group_id, r.context, r.status, 0, %s, '', '', ''
            FROM jsonb_to_recordset(%s::jsonb)
                 AS r(email text, group_id integer, context jsonb, status text)
            ON CONFLICT DO NOTHING
            """,  # noqa: S608 - the table name is the model's, not input
            [mailing_id, timezone.now(), json.dumps(rows)],
        )


def _groups_without_address(audience) -> list[dict]:
    """The groups none of whose addresses will be written to, as the final report lists them."""
    found = audience.groups_without_address
    regions = dict(
        CouncilGroup.objects.filter(pk__in=[pk for pk, _, _ in found]).values_list(
            "pk", "council__region__name"
        )
    )
    return [
        {"id": pk, "name": name, "council": council, "region": regions.get(pk, "")}
        for pk, name, council in found
    ]


def mailing_schedule(*, mailing_id: int, when, user=None) -> Mailing:
    """Send automatically at `when` (campaigns.tasks.mailings_start_due starts it)."""
    with transaction.atomic():
        mailing = _locked(mailing_id)
        if mailing.status not in (Status.DRAFT, Status.SCHEDULED):
            raise MailingError("Only a draft can be scheduled.")
        _check_sendable(mailing)
        if not audience_resolve(mailing).recipients:
            raise EmptyAudience
        mailing.status = Status.SCHEDULED
        mailing.scheduled_for = when
        mailing.scheduled_by = user
        mailing.schedule_problem = ""
        mailing._history_user = user
        mailing._change_reason = "Scheduled"
        mailing.save(update_fields=["status", "scheduled_for", "scheduled_by", "schedule_problem"])
        notifications.mailing_notify_on_commit(mailing=mailing, event=notifications.SCHEDULED)
    return mailing


def mailings_start_due(*, now=None) -> list[int]:
    """Start every scheduled mailing whose time has come; returns their ids.

    One that cannot start goes back to being a draft, with the reason recorded on it and
    emailed to whoever scheduled it, rather than being tried every minute. So does one more
    than MAILING_SCHEDULE_MAX_LATENESS minutes late (the workers or beat were down): news
    that was timely at its hour may not be by now, so a person decides whether to send it."""
    now = now or timezone.now()
    lateness = settings.MAILING_SCHEDULE_MAX_LATENESS
    due = Mailing.objects.filter(status=Status.SCHEDULED, scheduled_for__lte=now)
    started = []
    for mailing_id, scheduled_for in due.values_list("pk", "scheduled_for"):
        if scheduled_for < now - timedelta(minutes=lateness):
            _not_started(mailing_id, f"not started: more than {lateness} minutes late")
            continue
        try:
            if mailing_start(mailing_id=mailing_id):
                started.append(mailing_id)
        except MailingError as exc:
            _not_started(mailing_id, f"not started at its time: {exc}")
    return started


def _not_started(mailing_id: int, problem: str) -> None:
    log.warning("Scheduled mailing %s %s", mailing_id, problem)
    problem = problem[0].upper() + problem[1:]
    with transaction.atomic():
        mailing = _unschedule(mailing_id, user=None, reason=problem, schedule_problem=problem[:500])
        if mailing:
            notifications.mailing_notify_on_commit(mailing=mailing, event=notifications.NOT_STARTED)


def _unschedule(mailing_id: int, *, user, reason: str, schedule_problem: str = ""):
    """Back to a draft; returns the mailing, or None if it was not scheduled."""
    with transaction.atomic():
        return _change_status(
            mailing_id,
            allowed=(Status.SCHEDULED,),
            to=Status.DRAFT,
            user=user,
            reason=reason[:100],
            scheduled_for=None,
            schedule_problem=schedule_problem,
        )


def mailing_unschedule(*, mailing_id: int, user=None) -> bool:
    """Take a scheduled mailing off the schedule: it goes back to being a draft, keeping any
    approval it had, and can be edited, sent or scheduled again. False if it was not
    scheduled (it may have started meanwhile)."""
    return bool(_unschedule(mailing_id, user=user, reason="Taken off the schedule"))


def _change_status(mailing_id, *, allowed, to, user, reason, **fields) -> Mailing | None:
    mailing = _locked(mailing_id)
    if mailing.status not in allowed:
        return None
    mailing.status = to
    for name, value in fields.items():
        setattr(mailing, name, value)
    mailing._history_user = user
    mailing._change_reason = reason
    mailing.save(update_fields=["status", *fields])
    return mailing


def mailing_pause(*, mailing_id: int, user=None) -> bool:
    """Workers stop claiming; messages already being sent finish."""
    with transaction.atomic():
        return bool(
            _change_status(
                mailing_id, allowed=(Status.SENDING,), to=Status.PAUSED, user=user, reason="Paused"
            )
        )


def mailing_resume(*, mailing_id: int, user=None) -> bool:
    with transaction.atomic():
        mailing = _change_status(
            mailing_id, allowed=(Status.PAUSED,), to=Status.SENDING, user=user, reason="Resumed"
        )
        if mailing:
            _queue_senders(mailing.pk)
    return bool(mailing)


def mailing_cancel(*, mailing_id: int, user=None) -> bool:
    """Stop for good: nothing more is sent. Messages already sent stay sent."""
    with transaction.atomic():
        mailing = _change_status(
            mailing_id,
            allowed=(Status.SCHEDULED, Status.SENDING, Status.PAUSED),
            to=Status.CANCELLED,
            user=user,
            reason="Cancelled",
            finished_at=timezone.now(),
        )
        if mailing:
            Delivery.objects.filter(
                mailing_id=mailing_id, status__in=(DStatus.PENDING, DStatus.CLAIMED)
            ).update(status=DStatus.CANCELLED)
    return bool(mailing)


# Which failures "Try failed addresses again" retries.
RETRY_TEMPORARY = "temporary"
RETRY_ALL = "all"
# A permanent failure is one whose server reply had a 5xx code (see smtp.classify); anything
# else that ended as failed (4xx replies, no connection) used up its attempts.
PERMANENT_REPLY = r"^5[0-9][0-9]"


class Resent(int):
    """What "Try failed addresses again" did: the number of addresses queued again (the value
    itself, also `retried`), and `skipped`, those not tried because they are now on the
    suppression list (marked suppressed)."""

    skipped: int

    def __new__(cls, retried: int = 0, skipped: int = 0):
        result = super().__new__(cls, retried)
        result.skipped = skipped
        return result

    @property
    def retried(self) -> int:
        return int(self)


def mailing_resend_failed(*, mailing_id: int, user=None, kind: str = RETRY_ALL) -> Resent:
    """Try failed addresses again: only temporary failures, or all (`kind`). Addresses now
    suppressed are not tried but marked suppressed. Each retried row keeps its last error
    until the new attempt's result replaces it; its attempts start afresh so that it gets the
    full number of tries again, and the mailing's history records the retry."""
    with transaction.atomic():
        mailing = _locked(mailing_id)
        if mailing.status not in (Status.SENDING, Status.PAUSED, Status.SENT):
            return Resent()
        # Erasure rewrites a person's addresses into the reserved ".invalid" domain (RFC 2606):
        # nothing there can be delivered, so those rows stay failed.
        failed = Delivery.objects.filter(mailing_id=mailing_id, status=DStatus.FAILED).exclude(
            email__endswith="@invalid"
        )
        if kind == RETRY_TEMPORARY:
            failed = failed.exclude(last_error__regex=PERMANENT_REPLY)
        suppressed = Suppression.objects.annotate(address=Lower("email")).values("address")
        failed = failed.annotate(address=Lower("email"))
        skipped = failed.filter(address__in=suppressed).update(status=DStatus.SUPPRESSED)
        count = failed.exclude(address__in=suppressed).update(
            status=DStatus.PENDING, attempts=0, next_attempt_at=timezone.now()
        )
        if count or skipped:
            which = "temporarily failed" if kind == RETRY_TEMPORARY else "failed"
            reason = f"Re-sending to {count} {which} addresses"
            if skipped:
                reason += f"; {skipped} now suppressed, skipped"
            if count and mailing.status == Status.SENT:
                mailing.status = Status.SENDING
                mailing.finished_at = None
            mailing._history_user = user
            mailing._change_reason = reason[:100]
            mailing.save(update_fields=["status", "finished_at"])
        if count and mailing.status == Status.SENDING:
            _queue_senders(mailing_id)
    return Resent(retried=count, skipped=skipped)


def mailing_progress(mailing: Mailing) -> dict:
    """The mailing's deliveries counted by status, and `done`: those no longer waiting, whether
    sent, failed, suppressed or cancelled. Progress bars fill with `done` out of `total`, so
    they reach the end when nothing is left to send, whatever became of each message."""
    counts = dict(
        Delivery.objects.filter(mailing_id=mailing.pk)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    window = 10
    recent = Delivery.objects.filter(
        mailing_id=mailing.pk,
        status=DStatus.SENT,
        sent_at__gte=timezone.now() - timedelta(seconds=window),
    ).count()
    pending = counts.get(DStatus.PENDING, 0) + counts.get(DStatus.CLAIMED, 0)
    total = sum(counts.values())
    return {
        "status": mailing.status,
        "status_label": mailing.get_status_display(),
        "sent": counts.get(DStatus.SENT, 0),
        "failed": counts.get(DStatus.FAILED, 0),
        "pending": pending,
        "suppressed": counts.get(DStatus.SUPPRESSED, 0),
        "cancelled": counts.get(DStatus.CANCELLED, 0),
        "total": total,
        "done": total - pending,
        "rate_per_second": round(recent / window, 1),
    }


# --- claiming -------------------------------------------------------------------------------


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


def _release(ids: list[int], worker: str, *, delay: float = 0) -> None:
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


def _record_sent(cursor, delivery: Claimed, message_id: str, *, worker, following) -> bool:
    """The server took the message. Recorded whoever holds the row now: if a stalled send
    outlived the claim and the row went to another worker, the message did still go out, and
    marking it sent stops the other worker sending it again (it checks before each message).
    A row another worker has already recorded as sent is left as it is. The row keeps the
    name of the worker that sent it in claimed_by."""
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


def _record_refusal(cursor, delivery: Claimed, failure, *, worker, following, mailing_id):
    """Record a failed send. When the server said the mailbox does not exist, the address goes
    on the suppression list as a hard bounce in the same transaction, so that neither this
    mailing's later retries nor any other mailing writes to it again."""
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


def _still_ours(deliveries: list[Claimed], worker: str) -> list[Claimed]:
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


# --- building messages ----------------------------------------------------------------------


class _Message(EmailMultiAlternatives):
    """A mailing's message. Over SMTP, Outbox sends smtp_envelope()'s bytes (MimeBuilder,
    a fraction of the cost of Python's email package); other backends use the usual path.

    Sets its own MIME boundary: left to itself, Python's email generator compiles a fresh
    regular expression per message to check a random boundary against the text. A 128-bit
    random boundary cannot clash in practice."""

    mime: MimeBuilder | None = None

    def smtp_bytes(self) -> bytes | None:
        if self.mime is None or len(self.to) != 1 or self.cc or self.bcc or self.attachments:
            return None
        return self.mime.build(
            to=self.to[0],
            subject=self.subject,
            text=self.body,
            html=self.alternatives[0][0],
            headers=self.extra_headers,
        )

    def smtp_envelope(self) -> tuple[str, str, bytes] | None:
        """(sender, recipient, message bytes) for Outbox, or None to send the usual way."""
        if self.mime is None or self.mime.sender is None:
            return None
        data = self.smtp_bytes()
        if data is None:
            return None
        return self.mime.sender, self.to[0], data

    def _create_alternatives(self, msg):
        msg = super()._create_alternatives(msg)
        if msg.is_multipart():
            msg.set_boundary(f"=_alc_{secrets.token_hex(16)}")
        return msg


@dataclass
class Envelope:
    """What every message of one mailing shares, worked out once per batch of work."""

    mailing_id: int
    subject: str
    body: str
    from_email: str
    reply_to: list[str]
    links: UnsubscribeLinks
    msgid_domain: str
    mime: MimeBuilder | None = None

    @classmethod
    def for_mailing(cls, mailing: Mailing) -> Envelope:
        _, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
        from_email = formataddr((mailing.from_name, address)) if mailing.from_name else address
        reply_to = [mailing.reply_to] if mailing.reply_to else []
        return cls(
            mailing_id=mailing.pk,
            subject=mailing.subject,
            body=mailing.body,
            from_email=from_email,
            reply_to=reply_to,
            links=UnsubscribeLinks(),
            msgid_domain=settings.MAILING_MESSAGE_ID_DOMAIN,
            mime=MimeBuilder(from_email=from_email, reply_to=reply_to),
        )

    def message(
        self,
        *,
        email: str,
        context: dict,
        delivery_id: int | None = None,
        subject_prefix: str = "",
        note: str = "",
    ):
        url = self.links.url(delivery_id=delivery_id, mailing_id=self.mailing_id)
        rendered = render_message(
            subject=self.subject,
            body=self.body,
            context={**context, "unsubscribe_url": url},
            note=note,
        )
        message_id = make_msgid(domain=self.msgid_domain)
        headers = {"Message-ID": message_id, **self.links.headers(url)}
        message = _Message(
            subject=subject_prefix + rendered.subject,
            body=rendered.text,
            from_email=self.from_email,
            to=[email],
            reply_to=self.reply_to,
            headers=headers,
        )
        message.attach_alternative(rendered.html, "text/html")
        message.mime = self.mime
        return message, message_id


# Heads a test copy, so that whoever checks it knows its unsubscribe link is inert.
TEST_COPY_NOTE = (
    "This is a test copy. Its unsubscribe link does nothing: following it unsubscribes nobody."
)


def test_send(*, mailing: Mailing, to_email: str, context: dict) -> None:
    """Send one copy now, for the composer's "send a test to myself". Raises SendFailure, or
    MailingError when the mailing cannot make a message (see envelope_for)."""
    envelope = envelope_for(mailing)
    # The copy's unsubscribe link and headers must not unsubscribe the person testing.
    envelope.links = PreviewLinks()
    message, _ = envelope.message(
        email=to_email, context=context, subject_prefix="[Test] ", note=TEST_COPY_NOTE
    )
    with Outbox() as outbox:
        outbox.send(message)


# --- the sending loop -----------------------------------------------------------------------


def _batch_size(mailing: Mailing) -> int:
    size = settings.MAILING_BATCH_SIZE
    rate = effective_rate(mailing.rate_limit)
    if rate:
        # A batch should take well under the time a worker may hold it even when rate-limited.
        # (effective_rate is at most RATE_LIMIT_MAX, so this product is always finite.)
        size = min(size, max(1, int(min(rate * hold_seconds() / 4, size))))
    return size


def mailing_finish_if_done(*, mailing_id: int) -> float | None:
    """Mark the mailing sent once nothing is pending or being sent. Otherwise returns how long
    to wait before there is more to do (the earliest retry, or a stale claim to sweep)."""
    left = Delivery.objects.filter(
        mailing_id=mailing_id, status__in=(DStatus.PENDING, DStatus.CLAIMED)
    ).aggregate(
        due=Min("next_attempt_at", filter=Q(status=DStatus.PENDING)),
        claimed=Count("pk", filter=Q(status=DStatus.CLAIMED)),
        pending=Count("pk", filter=Q(status=DStatus.PENDING)),
    )
    if left["pending"]:
        return max(0.2, (left["due"] - timezone.now()).total_seconds())
    if left["claimed"]:
        # Another worker is sending them, or died: look again when a stale claim can be swept.
        return max(1.0, settings.MAILING_CLAIM_TIMEOUT / 4)
    with transaction.atomic():
        mailing = _locked(mailing_id)
        if mailing.status == Status.SENDING and not (
            Delivery.objects.filter(
                mailing_id=mailing_id, status__in=(DStatus.PENDING, DStatus.CLAIMED)
            ).exists()
        ):
            mailing.status = Status.SENT
            mailing.finished_at = timezone.now()
            mailing._change_reason = "Sending finished"
            mailing.save(update_fields=["status", "finished_at"])
            notifications.mailing_notify_on_commit(mailing=mailing, event=notifications.FINISHED)
    return None


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
            if mailing is None or mailing.status != Status.SENDING:
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
                    with transaction.atomic():
                        _change_status(
                            mailing_id,
                            allowed=(Status.SENDING,),
                            to=Status.PAUSED,
                            user=None,
                            reason=f"Paused: {exc}"[:100],
                        )
                    return None
            batch = deliveries_claim_batch(
                mailing_id=mailing_id, worker=worker, size=_batch_size(mailing)
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
    queue = collections.deque(_still_ours(batch, worker))
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
                    _release([d.pk for d in queue], worker)
                    return 0
                if now >= next_status_check:
                    next_status_check = now + STATUS_CHECK_SECONDS
                    status = Mailing.objects.filter(pk=envelope.mailing_id).values_list(
                        "status", flat=True
                    )
                    if list(status) != [Status.SENDING]:
                        _release([d.pk for d in queue], worker)
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
                    _release([d.pk for d in queue], worker)
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
                    next_is_ours = _record_refusal(
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
                        _release([d.pk for d in queue], worker, delay=delay)
                        return delay
                else:
                    # Recorded at once, in its own autocommitted statement: a worker killed now
                    # loses at most this one record, and that message is the only one sent twice.
                    next_is_ours = _record_sent(
                        cursor, delivery, message_id, worker=worker, following=following
                    )
                if queue and not next_is_ours:
                    # An unsubscribe, a cancel, or the sweep gave our rows to another worker
                    # while we were sending: look at the rest of the batch again.
                    queue = collections.deque(_still_ours(list(queue), worker))
        finally:
            # Only these records: the worker's other work commits as usual.
            cursor.execute("SET synchronous_commit TO DEFAULT")
    return None


def mailings_sweep() -> list[int]:
    """Periodic clean-up: return stale claims to pending and restart sending for mailings that
    no task is looking after any more (their workers were killed). Returns those mailings."""
    deliveries_sweep_stale(older_than=claim_timeout())
    restarted = []
    for mailing_id in Mailing.objects.filter(status=Status.SENDING).values_list("pk", flat=True):
        if not is_alive(mailing_id=mailing_id):
            heartbeat(mailing_id=mailing_id, seconds=settings.MAILING_CLAIM_TIMEOUT)
            with transaction.atomic():
                _queue_senders(mailing_id)
            restarted.append(mailing_id)
    return restarted


# Not a test, whatever pytest's name-based collection thinks when a test module imports it.
test_send.__test__ = False
