"""How long the portal keeps mailing addresses (docs/operations.md, "Retention"), run daily by
beat (campaigns.tasks.retention_run)."""

from datetime import timedelta

from django.conf import settings
from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from ..models import Delivery, Mailing


def delivery_addresses_anonymise(*, days: int | None = None) -> int:
    """The address and merge values of each message of a mailing that finished more than
    `days` (DELIVERY_ADDRESS_DAYS) ago. The rows stay, so the mailing's counts still add up;
    their unsubscribe links then lead to a page saying they have expired."""
    days = settings.DELIVERY_ADDRESS_DAYS if days is None else days
    cutoff = timezone.now() - timedelta(days=days)
    finished = Mailing.objects.filter(finished_at__lt=cutoff).values("pk")
    return (
        Delivery.objects.filter(mailing__in=finished)
        .exclude(email__endswith="@invalid")
        .update(
            email=Concat(Value("removed-"), Cast("pk", CharField()), Value("@invalid")),
            context={},
            last_error="",
        )
    )
