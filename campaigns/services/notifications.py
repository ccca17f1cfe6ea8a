"""Emails about a mailing's progress through the approval flow, to the people involved.

National staff hear when a representative submits a draft; the representative who drafted a
mailing hears when staff approve, schedule or start it and when it has been sent; whoever
scheduled a mailing hears when the schedule could not start it. Each email goes through the
portal's outbox (members.services.notices), queued in the transaction that makes the change.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from members.services.notices import notices_queue_each, occasion_stamp

from ..models import Mailing

SUBMITTED = "submitted"
APPROVED = "approved"
SCHEDULED = "scheduled"
STARTED = "started"
FINISHED = "finished"
NOT_STARTED = "not_started"

SUBJECTS = {
    SUBMITTED: "Mailing awaiting approval: {subject}",
    APPROVED: "Your mailing has been approved: {subject}",
    SCHEDULED: "Your mailing has been scheduled: {subject}",
    STARTED: "Your mailing is being sent: {subject}",
    FINISHED: "Your mailing has been sent: {subject}",
    NOT_STARTED: "Scheduled mailing not sent: {subject}",
}


def mailing_notices_queue(*, mailing: Mailing, event: str) -> int:
    """Queue the email about `event` to those it concerns, in the current transaction: it goes
    once the change commits. Returns how many were queued (nobody is told of a national
    mailing's progress: staff send those themselves)."""
    mailing = (
        Mailing.objects.select_related("created_by", "scheduled_by", "approved_by", "owner_region")
        .filter(pk=mailing.pk)
        .first()
    )
    if mailing is None or event not in SUBJECTS:
        return 0
    context = {
        "mailing": mailing,
        "event": event,
        "subject": SUBJECTS[event].format(subject=mailing.subject),
        "url": settings.PORTAL_URL.rstrip("/") + mailing.get_absolute_url(),
        "counts": _counts(mailing) if event == FINISHED else None,
        "groups_without_address": len(mailing.groups_without_address or ()),
    }
    # One message each: nobody sees who else was told.
    occasion = f"{mailing.pk}:{occasion_stamp(timezone.now())}"
    return notices_queue_each(
        notice_recipients(mailing, event),
        kind=f"mailing_{event}",
        occasion=occasion,
        template="campaigns/email/mailing_notice",
        context=context,
    )


def _drafter(mailing: Mailing) -> list[str]:
    """The representative who drafted a region's mailing (national mailings have nobody to
    tell: staff send those themselves)."""
    user = mailing.created_by
    if mailing.owner_region_id and user is not None and user.is_active and user.email:
        return [user.email]
    return []


def notice_recipients(mailing: Mailing, event: str) -> list[str]:
    if event == SUBMITTED:
        staff = get_user_model().objects.filter(staffrole__isnull=False, is_active=True)
        return sorted({email for email in staff.values_list("email", flat=True) if email})
    if event == NOT_STARTED:
        user = mailing.scheduled_by or mailing.created_by
        return [user.email] if user is not None and user.is_active and user.email else []
    return _drafter(mailing)


def _counts(mailing: Mailing) -> dict:
    from ..selectors import mailing_progress

    return mailing_progress(mailing)
