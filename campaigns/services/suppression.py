"""The one suppression list: unsubscribes, hard bounces, complaints and staff additions."""

from __future__ import annotations

from django.db import connection, transaction
from django.utils import timezone

from members.models import Councillor

from ..access import own_suppressions
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


@transaction.atomic
def own_unsubscribe_undo(*, user, suppression_id: int) -> bool:
    """Let a person receive campaign mailings again at an address of theirs they unsubscribed.
    Only their own "unsubscribed" entry is removed: a bounce, a complaint or an entry made by
    staff stays (False). The change is noted in their profile's history."""
    suppression = (
        own_suppressions(user)
        .select_for_update()
        .filter(pk=suppression_id, reason=Suppression.Reason.UNSUBSCRIBED)
        .first()
    )
    if suppression is None:
        return False
    suppression_remove(suppression_id=suppression.pk)
    reason = f"Asked to receive campaign mailings again at {suppression.email}"
    councillor = Councillor.objects.select_for_update().filter(user=user).first()
    if councillor is not None:
        councillor.wants_campaign_mailings = True
        councillor._change_reason = reason
        councillor.save(update_fields=["wants_campaign_mailings"])
    else:
        user._change_reason = reason
        user.save(update_fields=["email"])
    return True
