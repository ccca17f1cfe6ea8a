"""Celery tasks for mailings: thin wrappers that take ids and call campaigns.services.

mailing_send is safe to run any number of times at once: rows are claimed with SKIP LOCKED and
each copy re-queues itself only while its mailing still has something to send.
"""

import os
import socket
import uuid

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from .services import lifecycle, retention, sending


# A database that restarts under a sending task (its connection dropped) is tried again in a
# few seconds, rather than left to the sweep; the rows it held go back when its claim lapses.
@shared_task(
    acks_late=True,
    ignore_result=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=2,
    retry_backoff_max=60,
    max_retries=20,
)
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
    lifecycle.mailings_start_due()


@shared_task(acks_late=True, ignore_result=True)
def retention_run() -> None:
    """Daily: mailing addresses kept long enough are removed (docs/operations.md)."""
    retention.delivery_addresses_anonymise()
