"""A mailing's life once it is ready: starting it (the audience snapshot), scheduling and
unscheduling it, pausing, resuming and cancelling it, trying its failed addresses again, and
marking it sent when nothing is left. Each change locks the mailing's row, so two presses of a
button act once; the ledger it writes is claims.py's, the sending itself sending.py's.

Unscheduling, pausing, resuming, cancelling and re-sending check the campaigns.access rule for
the person making them; without a person (`user` None) the portal itself acts (the schedule, a
sending task), held to the mailing's state alone. Starting and scheduling are reached through
compose.py, which checks the person's rule first.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Min, Q
from django.db.models.functions import Lower
from django.utils import timezone

from regions.models import CouncilGroup

from ..access import (
    may_cancel_mailing,
    may_pause_mailing,
    may_resend_mailing,
    may_resume_mailing,
    may_unschedule_mailing,
)
from ..audience import audience_resolve
from ..exceptions import EmptyAudience, MailingError
from ..models import Delivery, Mailing, Suppression
from ..rendering import template_errors
from . import notifications
from .claims import deliveries_snapshot
from .messages import envelope_for

log = logging.getLogger(__name__)

Status = Mailing.Status
DStatus = Delivery.Status
# Which failures "Try failed addresses again" retries.
RETRY_TEMPORARY = "temporary"
RETRY_ALL = "all"
# A permanent failure is one whose server reply had a 5xx code (see smtp.classify); anything
# else that ended as failed (4xx replies, no connection) used up its attempts.
PERMANENT_REPLY = r"^5[0-9][0-9]"


def mailing_lock(mailing_id: int) -> Mailing:
    """The mailing, its row locked until the transaction ends."""
    return Mailing.objects.select_for_update().get(pk=mailing_id)


def mailing_queue_senders(mailing_id: int) -> None:
    """Queue the mailing's sending tasks once the current transaction commits."""
    from ..tasks import mailing_send

    def queue():
        for _ in range(max(1, settings.MAILING_PARALLEL_TASKS)):
            mailing_send.delay(mailing_id)

    transaction.on_commit(queue)


def mailing_check_sendable(mailing: Mailing) -> None:
    """Raise MailingError unless every message of the mailing can be made."""
    errors = template_errors(mailing.subject, mailing.body)
    if errors:
        raise MailingError("; ".join(errors))
    envelope_for(mailing)


def _audience_to_send(mailing: Mailing):
    """The mailing's audience, once every message of it can be made; EmptyAudience if it
    reaches nobody (no address to email and no letter to print)."""
    mailing_check_sendable(mailing)
    audience = audience_resolve(mailing)
    if not audience.recipients and not audience.letters:
        raise EmptyAudience
    return audience


def _allowed(now: bool, rule, user, mailing: Mailing) -> bool:
    """Whether a change may be made to the locked mailing: `now` is whether its state allows
    it, `rule` the campaigns.access function for a person making it. A person the rule refuses
    although the state allows it gets PermissionDenied; a change the state no longer allows
    (another press got there first) is False, and changes nothing."""
    if not now:
        return False
    if user is not None and not rule(user, mailing):
        raise PermissionDenied
    return True


def _status_set(mailing: Mailing, to: str, *, user, reason: str, **fields) -> None:
    mailing.status = to
    for name, value in fields.items():
        setattr(mailing, name, value)
    mailing._history_user = user
    mailing._change_reason = reason[:100]
    mailing.save(update_fields=["status", *fields])


@dataclass(frozen=True)
class Change:
    """A change of status made by a button (or by the portal itself): `state` names the Mailing
    property that says whether the mailing's state allows it, `rule` is the campaigns.access
    function for a person making it, and `reason` goes into the mailing's history."""

    state: str
    rule: Callable
    to: str
    reason: str


UNSCHEDULE = Change("is_scheduled", may_unschedule_mailing, Status.DRAFT, "Taken off the schedule")
PAUSE = Change("can_be_paused", may_pause_mailing, Status.PAUSED, "Paused")
RESUME = Change("can_be_resumed", may_resume_mailing, Status.SENDING, "Resumed")
CANCEL = Change("can_be_cancelled", may_cancel_mailing, Status.CANCELLED, "Cancelled")


def _change(mailing_id: int, change: Change, *, user, reason: str = "", **fields):
    """Lock the mailing and make the change (setting `fields` too) if it is allowed (see
    _allowed). Returns the mailing, or None when nothing was changed."""
    with transaction.atomic():
        mailing = mailing_lock(mailing_id)
        if not _allowed(getattr(mailing, change.state), change.rule, user, mailing):
            return None
        _status_set(mailing, change.to, user=user, reason=reason or change.reason, **fields)
    return mailing


# --- starting and scheduling -----------------------------------------------------------------


def mailing_start(*, mailing_id: int, started_by=None) -> bool:
    """Snapshot the audience and start sending. Returns False if the mailing was already
    started (or may not be: a representative's draft without approval).

    Two people pressing "send" at once: the row lock makes the second wait, then see SENDING
    and return False, so the audience is snapshotted and sent once.
    """
    with transaction.atomic():
        mailing = mailing_lock(mailing_id)
        if not mailing.can_be_started or mailing.needs_approval:
            return False
        audience = _audience_to_send(mailing)
        deliveries_snapshot(mailing_id=mailing.pk, audience=audience)
        reason = f"Sending started to {len(audience.recipients)} addresses"
        if audience.letters:
            reason += f" and {len(audience.letters)} letters"
        _status_set(
            mailing,
            Status.SENDING,
            user=started_by,
            reason=reason,
            started_at=timezone.now(),
            schedule_problem="",
            groups_without_address=_groups_without_address(audience),
        )
        mailing_queue_senders(mailing.pk)
        notifications.mailing_notices_queue(mailing=mailing, event=notifications.STARTED)
    return True


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
        mailing = mailing_lock(mailing_id)
        if not mailing.can_be_started:
            raise MailingError("Only a draft can be scheduled.")
        _audience_to_send(mailing)
        _status_set(
            mailing,
            Status.SCHEDULED,
            user=user,
            reason="Scheduled",
            scheduled_for=when,
            scheduled_by=user,
            schedule_problem="",
        )
        notifications.mailing_notices_queue(mailing=mailing, event=notifications.SCHEDULED)
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
            notifications.mailing_notices_queue(mailing=mailing, event=notifications.NOT_STARTED)


def _unschedule(mailing_id: int, *, user, reason: str, schedule_problem: str = ""):
    """Back to a draft; returns the mailing, or None if it was not scheduled."""
    return _change(
        mailing_id,
        UNSCHEDULE,
        user=user,
        reason=reason,
        scheduled_for=None,
        schedule_problem=schedule_problem,
    )


def mailing_unschedule(*, mailing_id: int, user=None) -> bool:
    """Take a scheduled mailing off the schedule: it goes back to being a draft, keeping any
    approval it had, and can be edited, sent or scheduled again. False if it was not
    scheduled (it may have started meanwhile)."""
    return bool(_unschedule(mailing_id, user=user, reason=UNSCHEDULE.reason))


# --- steering a mailing being sent ----------------------------------------------------------


def mailing_pause(*, mailing_id: int, user=None, reason: str = PAUSE.reason) -> bool:
    """Workers stop claiming; messages already being sent finish. False if it is not sending
    (someone paused or cancelled it first)."""
    return bool(_change(mailing_id, PAUSE, user=user, reason=reason))


def mailing_resume(*, mailing_id: int, user=None) -> bool:
    with transaction.atomic():
        mailing = _change(mailing_id, RESUME, user=user)
        if mailing:
            mailing_queue_senders(mailing.pk)
    return bool(mailing)


def mailing_cancel(*, mailing_id: int, user=None) -> bool:
    """Stop for good: nothing more is sent. Messages already sent stay sent."""
    with transaction.atomic():
        mailing = _change(mailing_id, CANCEL, user=user, finished_at=timezone.now())
        if mailing:
            Delivery.objects.filter(
                mailing_id=mailing_id, status__in=(DStatus.PENDING, DStatus.CLAIMED)
            ).update(status=DStatus.CANCELLED)
    return bool(mailing)


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
        mailing = mailing_lock(mailing_id)
        if not _allowed(mailing.is_sending_or_sent, may_resend_mailing, user, mailing):
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
            if count and mailing.is_sent:
                mailing.status = Status.SENDING
                mailing.finished_at = None
            mailing._history_user = user
            mailing._change_reason = reason[:100]
            mailing.save(update_fields=["status", "finished_at"])
        if count and mailing.is_sending:
            mailing_queue_senders(mailing_id)
    return Resent(retried=count, skipped=skipped)


# --- finishing ------------------------------------------------------------------------------


def mailing_finish_if_done(*, mailing_id: int) -> float | None:
    """Mark the mailing sent once nothing is pending or being sent. Otherwise returns how long
    to wait before there is more to do (the earliest retry, or a stale claim to sweep)."""
    waiting = Delivery.objects.filter(
        mailing_id=mailing_id, status__in=(DStatus.PENDING, DStatus.CLAIMED)
    )
    left = waiting.aggregate(
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
        mailing = mailing_lock(mailing_id)
        if mailing.is_sending and not waiting.exists():
            _status_set(
                mailing,
                Status.SENT,
                user=None,
                reason="Sending finished",
                finished_at=timezone.now(),
            )
            notifications.mailing_notices_queue(mailing=mailing, event=notifications.FINISHED)
    return None
