"""Celery tasks for mailings: thin wrappers that take ids and call campaigns.services.

mailing_send is safe to run any number of times at once: rows are claimed with SKIP LOCKED and
each copy re-queues itself only while its mailing still has something to send.
"""

import os
import socket
import uuid

from celery import shared_task
from django.conf import settings

from .services import notifications, sending


@shared_task(acks_late=True, ignore_result=True)
def mailing_send(mailing_id: int) -> None:
    worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    delay = sending.mailing_send_some(
        mailing_id=mailing_id, worker=worker, seconds=settings.MAILING_TASK_SECONDS
    )
    if delay is not None:
        mailing_send.apply_async((mailing_id,), countdown=delay)


@shared_task(acks_late=True, ignore_result=True)
def mailings_sweep() -> None:
    sending.mailings_sweep()


@shared_task(acks_late=True, ignore_result=True)
def mailings_start_due() -> None:
    sending.mailings_start_due()


@shared_task(
    acks_late=True,
    ignore_result=True,
    autoretry_for=(OSError,),
    retry_backoff=30,
    max_retries=8,
)
def mailing_notify(mailing_id: int, event: str) -> None:
    """An email about a mailing's approval or sending; retried while the mail server is away."""
    notifications.mailing_notify_send(mailing_id=mailing_id, event=event)
