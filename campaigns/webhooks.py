"""Bounces, complaints and unsubscribes reported by the email provider, through django-anymail's
tracking webhooks (/webhooks/anymail/<esp>/tracking/, HTTP basic auth with
ANYMAIL_WEBHOOK_SECRET). Each adds the address to the suppression list."""

import logging

from anymail.signals import EventType, RejectReason, tracking
from django.dispatch import receiver

from .models import Suppression
from .services.suppression import suppression_add

log = logging.getLogger(__name__)

# Reported as "bounced" by some providers although the address may work tomorrow.
SOFT_BOUNCE_TYPES = {"SoftBounce", "Transient", "DnsError"}


def _reason(event) -> str | None:
    if event.event_type == EventType.COMPLAINED:
        return Suppression.Reason.COMPLAINT
    if event.event_type == EventType.UNSUBSCRIBED:
        return Suppression.Reason.UNSUBSCRIBED
    if event.event_type == EventType.BOUNCED:
        esp_event = event.esp_event if isinstance(event.esp_event, dict) else {}
        if esp_event.get("Type") in SOFT_BOUNCE_TYPES:
            return None
        return Suppression.Reason.HARD_BOUNCE
    if event.event_type == EventType.REJECTED and event.reject_reason == RejectReason.INVALID:
        return Suppression.Reason.HARD_BOUNCE
    return None


@receiver(tracking, dispatch_uid="campaigns_suppress_on_bounce")
def suppress_on_bounce(sender, event, esp_name, **kwargs):
    reason = _reason(event)
    if reason is None or not event.recipient:
        return
    note = f"{esp_name}: {event.description or event.mta_response or event.event_type}"
    added = suppression_add(email=event.recipient, reason=reason, note=note[:500])
    log.info("%s reported %s for %s (new: %s)", esp_name, event.event_type, event.recipient, added)
