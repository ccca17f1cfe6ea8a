"""Bounces, complaints and unsubscribes reported by the email provider, through django-anymail's
tracking webhooks (/webhooks/anymail/<esp>/tracking/, HTTP basic auth with
ANYMAIL_WEBHOOK_SECRET). Hard bounces, complaints and unsubscribes add the address to the
suppression list; soft bounces do not, whichever provider reports them.

Without ANYMAIL_WEBHOOK_SECRET anymail would accept reports from anyone (with a warning), and
anyone could then stop mail to any address; the portal's webhooks answer 404 until it is set."""

import functools
import logging
import re

from anymail import urls as anymail_urls
from anymail.signals import EventType, RejectReason, tracking
from anymail.utils import get_anymail_setting
from django.dispatch import receiver
from django.http import Http404
from django.urls import URLPattern

from .models import Suppression
from .services.suppression import address_digest, suppression_add_reported

log = logging.getLogger(__name__)


def _needs_webhook_secret(view):
    @functools.wraps(view)  # keeps anymail's csrf_exempt
    def guarded(request, *args, **kwargs):
        if not get_anymail_setting("webhook_secret", default=None):
            log.warning("Provider webhook refused: ANYMAIL_WEBHOOK_SECRET is not set.")
            raise Http404("Provider webhooks are not configured.")
        return view(request, *args, **kwargs)

    return guarded


def webhook_urls():
    """anymail's webhook URLs, each answering only once the shared secret is configured. For
    `include()` under webhooks/anymail/."""
    patterns = [
        URLPattern(p.pattern, _needs_webhook_secret(p.callback), p.default_args, p.name)
        for p in anymail_urls.urlpatterns
    ]
    return patterns, anymail_urls.app_name


# An SMTP reply or enhanced status code at the start of the server's reply (or after a
# "smtp;" prefix): 4xx and 4.x.x are temporary, 5xx and 5.x.x permanent.
_SMTP_STATUS = re.compile(
    r"^\s*(?:smtp\s*;\s*)?(?P<class>[45])(?:\d\d\b|\.\d{1,3}\.\d{1,3}\b)", re.I
)


def _esp_says_permanent(esp_name: str, esp_event: dict) -> bool | None:
    """The provider's own word on whether a bounce is permanent, where it documents one field
    for it; None when it does not say. (Mailgun's temporary failures already arrive as
    "deferred": anymail reads its "severity".)"""
    name = esp_name.lower().replace(" ", "")
    if name == "postmark":
        # Type: HardBounce, SoftBounce, VirusNotification... (anymail reports several of them
        # as "bounced"); only HardBounce means the address does not exist.
        kind = esp_event.get("Type")
        return None if kind is None else kind == "HardBounce"
    if name == "amazonses":
        # bounceType: Permanent, Transient or Undetermined.
        kind = (esp_event.get("bounce") or {}).get("bounceType")
        return None if kind is None else kind == "Permanent"
    if name == "sendgrid":
        # type: "bounce" (permanent) or "blocked" (the server would not take it for now).
        kind = esp_event.get("type")
        return None if kind is None else kind == "bounce"
    if name in ("brevo", "sendinblue"):
        # event: hard_bounce, soft_bounce or invalid_email (all "bounced" in anymail, with
        # only a free-text reason).
        kind = esp_event.get("event")
        return None if kind is None else kind in ("hard_bounce", "invalid_email")
    if name == "mandrill":
        # event: hard_bounce or soft_bounce; the diagnostic ("diag") is often missing.
        kind = esp_event.get("event")
        return None if kind is None else kind == "hard_bounce"
    if name == "mailersend":
        # data.type: hard_bounced or soft_bounced.
        data = esp_event.get("data")
        kind = data.get("type") if isinstance(data, dict) else None
        return None if kind is None else kind == "hard_bounced"
    if name == "mailjet":
        # hard_bounce: true or false on every "bounce" event.
        kind = esp_event.get("hard_bounce")
        return None if kind is None else bool(kind)
    return None


def is_hard_bounce(event, esp_name: str) -> bool:
    """Whether a tracking event says the address itself is gone, so that writing to it again
    is pointless. Temporary failures (full mailbox, greylisting, a blocked connection) are
    anymail's "deferred" for most providers, but some providers report them as "bounced" too:
    those are told apart by the provider's own field, else by the server's reply code."""
    if event.event_type != EventType.BOUNCED:
        return False
    esp_event = event.esp_event if isinstance(event.esp_event, dict) else {}
    verdict = _esp_says_permanent(esp_name, esp_event)
    if verdict is not None:
        return verdict
    match = _SMTP_STATUS.match(event.mta_response or "")
    if match:
        return match.group("class") == "5"
    # A reason other than a bounce (a virus, a policy block, a provider's own "generic") is
    # not a verdict on the address.
    return event.reject_reason in (None, RejectReason.BOUNCED)


def _reason(event, esp_name: str) -> str | None:
    if event.event_type == EventType.COMPLAINED:
        return Suppression.Reason.COMPLAINT
    if event.event_type == EventType.UNSUBSCRIBED:
        return Suppression.Reason.UNSUBSCRIBED
    if is_hard_bounce(event, esp_name):
        return Suppression.Reason.HARD_BOUNCE
    if event.event_type == EventType.REJECTED and event.reject_reason == RejectReason.INVALID:
        return Suppression.Reason.HARD_BOUNCE
    return None


@receiver(tracking, dispatch_uid="campaigns_suppress_on_bounce")
def suppress_on_bounce(sender, event, esp_name, **kwargs):
    """Suppress the address a report is about, once per report (by the provider's event id),
    and never on a report older than the address's last removal from the list."""
    reason = _reason(event, esp_name)
    if reason is None or not event.recipient:
        return
    note = f"{esp_name}: {event.description or event.mta_response or event.event_type}"
    outcome = suppression_add_reported(
        esp=esp_name,
        event_id=event.event_id,
        payload=event.esp_event,
        reported_at=event.timestamp,
        email=event.recipient,
        reason=reason,
        note=note[:500],
    )
    # The address is logged as a digest: logs travel further than the database.
    log.info(
        "%s reported %s for address %s: %s",
        esp_name,
        event.event_type,
        address_digest(event.recipient)[:16],
        outcome,
    )
