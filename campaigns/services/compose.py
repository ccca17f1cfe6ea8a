"""Writes for composing mailings: saving drafts, submitting a representative's draft for
approval, approving it, and the Send now and Schedule buttons, which approve in passing and
hand over to lifecycle.py. Each checks the campaigns.access rule for what it does."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from ..access import (
    is_staff,
    may_approve_mailing,
    may_edit_mailing,
    may_send_mailing,
    may_submit_mailing,
)
from ..exceptions import MailingChanged, MailingError
from ..models import Mailing
from . import lifecycle, notifications
from .lifecycle import mailing_lock

AUDIENCE_FIELDS = ("council_kinds", "controls", "election_date", "recipients")
CONTENT_FIELDS = ("campaign", "subject", "from_name", "reply_to", "body")


@transaction.atomic
def mailing_save(*, mailing: Mailing | None = None, data: dict, user) -> Mailing:
    """Create or update a mailing from a MailingForm's cleaned data.

    A representative's mailing belongs to the region it is addressed to (their own, which the
    form has checked), and any change to it withdraws an approval already given. When staff
    address a region's mailing to anything other than exactly that region, it becomes a
    national mailing: the region's representative can no longer open it, so they never see
    recipients outside their region.
    """
    creating = mailing is None
    if creating:
        mailing = Mailing(created_by=user)
    elif not may_edit_mailing(user, mailing):
        raise PermissionDenied
    for field in CONTENT_FIELDS + AUDIENCE_FIELDS:
        setattr(mailing, field, data[field])
    mailing.fall_back_to_contact = data["fall_back_to_contact"]
    mailing.event_audience = data.get("event_audience") or ""
    mailing.event = data.get("event") if mailing.event_audience else None
    if is_staff(user) and "rate_limit" in data:
        # Only staff set how fast a mailing goes; a representative's edit keeps it.
        mailing.rate_limit = data["rate_limit"]
    regions = list(data["regions"])
    if not is_staff(user):
        if len(regions) != 1 or regions[0].pk not in user.represented_region_ids:
            raise ValidationError("A representative writes to their own region only.")
        mailing.owner_region = regions[0]
        mailing.approved_by = None
        if mailing.is_awaiting_approval:
            mailing.status = Mailing.Status.DRAFT
    reason = "Created" if creating else "Edited"
    if mailing.owner_region_id and [r.pk for r in regions] != [mailing.owner_region_id]:
        reason = f"Edited: addressed beyond {mailing.owner_region.name}, now a national mailing"
        mailing.owner_region = None
        mailing.approved_by = None
        if mailing.is_awaiting_approval:
            mailing.status = Mailing.Status.DRAFT
    mailing._change_reason = reason[:100]
    mailing.save()
    mailing.regions.set(regions)
    return mailing


@transaction.atomic
def mailing_submit(*, mailing: Mailing, user) -> Mailing:
    """A representative asks the national office to approve and send their draft (not one
    already approved: that is ready to go). National staff are told by email."""
    mailing = mailing_lock(mailing.pk)
    if not may_submit_mailing(user, mailing):
        raise PermissionDenied
    mailing.status = Mailing.Status.AWAITING_APPROVAL
    mailing._history_user = user
    mailing._change_reason = "Submitted for approval"
    mailing.save(update_fields=["status"])
    notifications.mailing_notices_queue(mailing=mailing, event=notifications.SUBMITTED)
    return mailing


def mailing_version(mailing_id: int) -> str:
    """A token that changes whenever the mailing does (every save records a history row, its
    audience regions included), for the Approve, Send and Schedule forms to carry."""
    latest = Mailing.history.filter(id=mailing_id).aggregate(latest=Max("history_id"))["latest"]
    return str(latest or 0)


def _check_version(mailing: Mailing, version: str | None) -> None:
    """A form without a token (a script, not the mailing's page) is not checked."""
    if version is not None and version != mailing_version(mailing.pk):
        raise MailingChanged


def _approve(mailing: Mailing, user) -> None:
    mailing.approved_by = user
    mailing.status = Mailing.Status.DRAFT
    mailing._history_user = user
    mailing._change_reason = f"Approved on {timezone.localdate():%-d %B %Y}"
    mailing.save(update_fields=["approved_by", "status"])
    notifications.mailing_notices_queue(mailing=mailing, event=notifications.APPROVED)


@transaction.atomic
def mailing_approve(*, mailing: Mailing, user, version: str | None = None) -> Mailing:
    """Staff approve a draft as they saw it; a representative's is then ready to send or
    schedule. Raises MailingChanged if it changed since `version`."""
    mailing = mailing_lock(mailing.pk)
    if not may_approve_mailing(user, mailing):
        raise PermissionDenied
    _check_version(mailing, version)
    _approve(mailing, user)
    return mailing


def _ready_to_send(mailing_id: int, *, user, version: str | None) -> Mailing | None:
    """Lock the mailing and check that staff may send or schedule it as they saw it; approve a
    representative's draft in passing (sending it is the approval). None if sending has
    already started. Call inside the transaction that starts or schedules it, so that the
    approval is only kept if that succeeds."""
    if not is_staff(user):
        # Only staff send: anyone else is refused whatever the mailing's state.
        raise PermissionDenied
    mailing = mailing_lock(mailing_id)
    if mailing.is_sending_or_sent:
        # A second press (a double click, say): it is already going out.
        return None
    if not may_send_mailing(user, mailing):
        raise PermissionDenied
    _check_version(mailing, version)
    if mailing.needs_approval:
        _approve(mailing, user)
    return mailing


@transaction.atomic
def mailing_send_now(*, mailing: Mailing, user, version: str | None = None) -> bool:
    """Approve if need be and start sending, all or nothing. False if it had already started.
    Raises MailingError (MailingChanged included) with a message for the person sending."""
    if _ready_to_send(mailing.pk, user=user, version=version) is None:
        return False
    return lifecycle.mailing_start(mailing_id=mailing.pk, started_by=user)


@transaction.atomic
def mailing_schedule_at(*, mailing: Mailing, user, when, version: str | None = None) -> Mailing:
    """Approve if need be and schedule, all or nothing. Raises MailingError."""
    if _ready_to_send(mailing.pk, user=user, version=version) is None:
        raise MailingError("This mailing is already being sent, so it can't be scheduled.")
    return lifecycle.mailing_schedule(mailing_id=mailing.pk, when=when, user=user)
