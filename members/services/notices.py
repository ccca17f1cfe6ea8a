"""The outbox: every email the portal sends about a person's business.

A notice is written as a `members.Notice` row, already rendered, in the same transaction as
what it is about (a join request, a decision, an appointment...), keyed uniquely by its kind,
its occasion and its recipient: asking twice queues it once, and a rolled-back change queues
nothing. Once the transaction commits a Celery task is asked to send it, but the row, not the
task, is what counts: if Redis loses the task (a restart, a flush), the sweep that beat runs
every NOTICE_SWEEP_SECONDS sends it.

Sending works like the mailing ledger. A worker claims a batch of due rows with
`SELECT ... FOR UPDATE SKIP LOCKED`, marking them `sending` with its name, then sends them one
by one over one SMTP connection, recording each result in its own commit. A worker killed
mid-batch leaves its rows `sending`; the sweep returns those whose claim is older than
NOTICE_CLAIM_TIMEOUT to the queue. So nothing is lost, and at most the message being sent at
the moment of the kill goes twice. Temporary failures (the server is down, a 4xx reply) are
tried again with a doubling delay, up to NOTICE_MAX_ATTEMPTS; a permanent refusal (5xx) marks
the notice failed at once. Failed notices are listed in the admin.
"""

from __future__ import annotations

import contextlib
import logging
import os
import smtplib
import socket
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.utils import timezone

from members.models import Notice, User

log = logging.getLogger(__name__)

BATCH_SIZE = 20


def notice_render(*, template: str, context: dict) -> tuple[str, str, str]:
    """The subject, text and HTML of a message from `<template>_subject.txt`, `.txt` and
    `.html` (the HTML is optional)."""
    subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
    text = render_to_string(f"{template}.txt", context)
    try:
        html = render_to_string(f"{template}.html", context)
    except TemplateDoesNotExist:
        html = ""
    return subject, text, html


def notice_build(
    *,
    kind: str,
    occasion,
    to: User | str,
    template: str,
    context: dict,
    stamps=None,
    attachments: list[dict] | None = None,
) -> Notice:
    """A notice of `kind` for `occasion` to `to`, rendered now from `template` and `context`,
    not yet saved. `to` is a person (the context then has them as `recipient`) or an address.
    `stamps` is (object, field name): once the notice is sent, the moment it went is written
    there if it is empty. `attachments` are files sent with it, each a dict of `filename`,
    `mimetype` and `content` (text), kept on the row as they are now."""
    user = to if isinstance(to, User) else None
    email = user.email if user is not None else to
    if user is not None:
        context = {**context, "recipient": user}
    subject, text, html = notice_render(template=template, context=context)
    notice = Notice(
        kind=kind,
        occasion=str(occasion)[:120],
        to_email=email,
        to_user=user,
        subject=subject[:300],
        body_text=text,
        body_html=html,
        attachments=[
            {"filename": a["filename"], "mimetype": a["mimetype"], "content": a["content"]}
            for a in attachments or ()
        ],
    )
    if stamps is not None:
        obj, field = stamps
        notice.stamps_model, notice.stamps_id = obj._meta.label_lower, obj.pk
        notice.stamps_field = field
    return notice


def notice_queue(**notice) -> bool:
    """Queue one notice (described as notice_build takes it), rendered now, to be sent once
    this transaction commits. Returns False, and queues nothing, when this kind of notice for
    this occasion has already been queued for this recipient."""
    notice = notice_build(**notice)
    try:
        with transaction.atomic():
            notice.save()
    except IntegrityError:
        return False
    notices_send_on_commit()
    return True


def notices_queue_each(recipients, **notice) -> int:
    """Queue the same notice to each of these people or addresses, a message each, so that
    nobody learns who else was told. Returns how many were queued."""
    return sum(notice_queue(to=to, **notice) for to in recipients)


def notices_queue_many(notices: list[Notice]) -> None:
    """Queue many notices made by notice_build in one statement (an import's invitations, say);
    any already queued are left as they are."""
    if notices:
        Notice.objects.bulk_create(notices, ignore_conflicts=True)
        notices_send_on_commit()


def occasion_stamp(moment) -> str:
    """A moment as part of an occasion: a request asked again is a new occasion."""
    return f"{moment.timestamp():.6f}"


def decision_notice_queue(decided, *, kind: str, template: str, context: dict) -> bool:
    """Tell a councillor the outcome of their decided request (a council or ward change, a levy
    waiver), with the reason given. Nobody is written to once their account is closed."""
    user = decided.councillor.user
    if not user.is_active:
        return False
    return notice_queue(
        kind=kind,
        occasion=f"{decided.pk}:{occasion_stamp(decided.decided_at)}",
        to=user,
        template=template,
        context={**context, "approved": decided.status == "approved"},
    )


def _send_soon() -> None:
    from members.tasks import notices_send

    try:
        notices_send.delay()
    except Exception:
        # The broker is down: the notice is safe in its row, and beat's sweep sends it.
        log.warning("Could not ask a worker to send notices now; the sweep will.", exc_info=True)


def notices_send_on_commit() -> None:
    """Ask a worker to send what is queued, once the current transaction has committed (once
    per transaction, however many notices it queued)."""
    pending = transaction.get_connection().run_on_commit
    if not any(callback is _send_soon for _sids, callback, _robust in pending):
        transaction.on_commit(_send_soon)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def notices_claim(*, worker: str, size: int = BATCH_SIZE, now=None) -> list[Notice]:
    """Take a batch of notices due by `now` for this worker; others skip them while they are
    locked."""
    with transaction.atomic():
        ids = list(
            Notice.objects.due(now)
            .order_by("next_attempt_at", "pk")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:size]
        )
        if not ids:
            return []
        Notice.objects.filter(pk__in=ids).update(
            status=Notice.Status.SENDING, claimed_at=timezone.now(), claimed_by=worker
        )
    return list(Notice.objects.filter(pk__in=ids).order_by("pk"))


def _message(notice: Notice, connection) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=notice.subject, body=notice.body_text, to=[notice.to_email], connection=connection
    )
    if notice.body_html:
        message.attach_alternative(notice.body_html, "text/html")
    for attachment in notice.attachments or ():
        message.attach(attachment["filename"], attachment["content"], attachment["mimetype"])
    return message


def _is_permanent(error: Exception) -> bool:
    """A refusal the server will repeat whatever we do (5xx), as opposed to "not now"."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _message in error.recipients.values()]
        return bool(codes) and all(code >= 500 for code in codes)
    code = getattr(error, "smtp_code", None)
    return isinstance(code, int) and code >= 500


def _record_sent(notice: Notice, worker: str) -> None:
    now = timezone.now()
    with transaction.atomic():
        done = Notice.objects.filter(
            pk=notice.pk, status=Notice.Status.SENDING, claimed_by=worker
        ).update(status=Notice.Status.SENT, sent_at=now, attempts=notice.attempts + 1)
        if done and notice.stamps_model and notice.stamps_field:
            model = apps.get_model(notice.stamps_model)
            model.objects.filter(
                pk=notice.stamps_id, **{f"{notice.stamps_field}__isnull": True}
            ).update(**{notice.stamps_field: now})


def _record_failure(notice: Notice, worker: str, error: Exception) -> None:
    attempts = notice.attempts + 1
    permanent = _is_permanent(error) or attempts >= settings.NOTICE_MAX_ATTEMPTS
    delay = min(settings.NOTICE_RETRY_BASE_SECONDS * 2 ** (attempts - 1), 6 * 60 * 60)
    Notice.objects.filter(pk=notice.pk, status=Notice.Status.SENDING, claimed_by=worker).update(
        status=Notice.Status.FAILED if permanent else Notice.Status.QUEUED,
        attempts=attempts,
        next_attempt_at=timezone.now() + timedelta(seconds=delay),
        last_error=f"{type(error).__name__}: {error}"[:2000],
    )


def notices_send_due(*, worker: str | None = None) -> int:
    """Send every due notice, a batch at a time over one connection. Returns how many went."""
    worker = worker or worker_name()
    # Only what was due when this round began: a notice that fails now waits for a later one.
    started = timezone.now()
    sent = 0
    while batch := notices_claim(worker=worker, now=started):
        connection = get_connection()
        # If the server does not answer, each message below tries again and records why.
        with contextlib.suppress(smtplib.SMTPException, OSError):
            connection.open()
        try:
            for notice in batch:
                try:
                    connection.send_messages([_message(notice, connection)])
                except (smtplib.SMTPException, OSError) as error:
                    _record_failure(notice, worker, error)
                    connection.close()
                else:
                    _record_sent(notice, worker)
                    sent += 1
        finally:
            connection.close()
    return sent


def notices_sweep(*, older_than: float | None = None) -> int:
    """Return to the queue the notices claimed by a worker that has not finished them within
    NOTICE_CLAIM_TIMEOUT seconds (it was killed, or lost its database connection). Returns
    how many went back."""
    seconds = settings.NOTICE_CLAIM_TIMEOUT if older_than is None else older_than
    stale = timezone.now() - timedelta(seconds=seconds)
    return Notice.objects.filter(status=Notice.Status.SENDING, claimed_at__lt=stale).update(
        status=Notice.Status.QUEUED, claimed_by="", claimed_at=None
    )


def notices_cancel(*, kind: str, to_email: str) -> int:
    """Withdraw the notices of this kind to this address that have not gone yet (an invitation
    to someone since marked as no longer a councillor, say). Returns how many."""
    return Notice.objects.filter(
        kind=kind, to_email__iexact=to_email, status=Notice.Status.QUEUED
    ).update(status=Notice.Status.CANCELLED)
