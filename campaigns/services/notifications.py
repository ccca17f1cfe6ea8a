"""Emails about a mailing's progress through the approval flow, to the people involved.

National staff hear when a representative submits a draft; the representative who drafted a
mailing hears when staff approve, schedule or start it and when it has been sent; whoever
scheduled a mailing hears when the schedule could not start it. Each email is sent by a Celery
task queued after the change commits (campaigns.tasks.mailing_notify), through Django's mail.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mass_mail
from django.db import transaction
from django.template.loader import render_to_string

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


def mailing_notify_on_commit(*, mailing: Mailing, event: str) -> None:
    """Queue the email about `event` once the current transaction commits, unless there is
    plainly nobody to tell (a national mailing's progress, say). Who exactly is worked out
    when the email is sent."""
    from ..tasks import mailing_notify

    if event in (SUBMITTED, NOT_STARTED):
        wanted = True
    else:
        wanted = bool(mailing.owner_region_id and mailing.created_by_id)
    if wanted:
        mailing_id = mailing.pk
        transaction.on_commit(lambda: mailing_notify.delay(mailing_id, event))


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
    from .sending import mailing_progress

    return mailing_progress(mailing)


def mailing_notify_send(*, mailing_id: int, event: str) -> int:
    """Send the email about `event`; returns how many people it went to (0 when the mailing
    is gone or nobody is to be told)."""
    mailing = (
        Mailing.objects.select_related("created_by", "scheduled_by", "approved_by", "owner_region")
        .filter(pk=mailing_id)
        .first()
    )
    if mailing is None or event not in SUBJECTS:
        return 0
    to = notice_recipients(mailing, event)
    if not to:
        return 0
    context = {
        "mailing": mailing,
        "event": event,
        "url": settings.PORTAL_URL.rstrip("/") + mailing.get_absolute_url(),
        "counts": _counts(mailing) if event == FINISHED else None,
        "groups_without_address": len(mailing.groups_without_address or ()),
    }
    body = render_to_string("campaigns/email/mailing_notice.txt", context)
    subject = " ".join(SUBJECTS[event].format(subject=mailing.subject).split())[:200]
    # One message each, over one connection: nobody sees who else was told.
    send_mass_mail([(subject, body, settings.DEFAULT_FROM_EMAIL, [address]) for address in to])
    return len(to)
