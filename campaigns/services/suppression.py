"""The one suppression list: unsubscribes, hard bounces, complaints and staff additions."""

from __future__ import annotations

from django.db import connection, transaction
from django.utils import timezone

from ..models import Delivery, Suppression


def suppression_add(
    *, email: str, reason: str, mailing_id: int | None = None, note: str = ""
) -> bool:
    """Suppress an address. Safe to repeat: returns False if it was already suppressed.

    Deliveries of the address not yet sent, including those a worker has claimed, are marked
    suppressed at once; the worker checks each row just before sending it, so a mailing under
    way stops writing to the address from its next message on.
    """
    email = email.strip().lower()
    with transaction.atomic(), connection.cursor() as cursor:
        # ON CONFLICT against the case-insensitive unique index: one row per address, however
        # many unsubscribe clicks or bounce reports arrive at once.
        cursor.execute(
            f"INSERT INTO {Suppression._meta.db_table}"
            " (email, reason, created_at, mailing_id, note) VALUES (%s, %s, %s, %s, %s)"
            " ON CONFLICT DO NOTHING RETURNING id",
            [email, reason, timezone.now(), mailing_id, note[:500]],
        )
        created = cursor.fetchone() is not None
        Delivery.objects.filter(
            email__iexact=email, status__in=(Delivery.Status.PENDING, Delivery.Status.CLAIMED)
        ).update(status=Delivery.Status.SUPPRESSED)
    return created


def suppression_remove(*, suppression_id: int) -> bool:
    deleted, _ = Suppression.objects.filter(pk=suppression_id).delete()
    return bool(deleted)
