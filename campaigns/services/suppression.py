"""The one suppression list: unsubscribes, hard bounces, complaints and staff additions."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from members.models import Councillor

from ..access import own_suppressions
from ..models import Delivery, ProviderEvent, Suppression, SuppressionLift


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


def address_digest(email: str) -> str:
    """An address as the records that must not hold it in clear (logs, lifts) name it."""
    return hashlib.sha256(email.strip().lower().encode()).hexdigest()


@transaction.atomic
def suppression_remove(*, suppression_id: int) -> bool:
    """Take an address off the list, noting when, so that a provider's older report about it
    (replayed, or merely late) cannot put it back."""
    suppression = Suppression.objects.select_for_update().filter(pk=suppression_id).first()
    if suppression is None:
        return False
    SuppressionLift.objects.update_or_create(
        address_digest=address_digest(suppression.email), defaults={"lifted_at": timezone.now()}
    )
    suppression.delete()
    return True


def suppression_add_reported(
    *,
    esp: str,
    event_id: str | None,
    payload,
    reported_at: datetime | None,
    email: str,
    reason: str,
    note: str,
) -> str:
    """Act on a provider's report that an address bounced, complained or unsubscribed. Returns
    what was done: "added", "already" (it was suppressed), "repeat" (this report was acted on
    before) or "stale" (the address came off the list after the report's time).

    Reports are known by the provider's event id, or, when it gives none, by their content."""
    key = (
        event_id
        or hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()
    )
    with transaction.atomic():
        try:
            with transaction.atomic():
                ProviderEvent.objects.create(esp=esp[:50], event_id=str(key)[:255])
        except IntegrityError:
            return "repeat"
        lift = SuppressionLift.objects.filter(address_digest=address_digest(email)).first()
        if lift is not None and reported_at is not None and reported_at <= lift.lifted_at:
            return "stale"
        return "added" if suppression_add(email=email, reason=reason, note=note) else "already"


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
