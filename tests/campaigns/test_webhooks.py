"""Bounce and complaint reports POSTed by the provider to anymail's tracking webhook."""

import base64
import hashlib
import hmac
import json

import pytest
from django.test import Client

from campaigns.models import Suppression

pytestmark = pytest.mark.django_db

URL = "/webhooks/anymail/postmark/tracking/"


@pytest.fixture(autouse=True)
def webhook_secret(settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": "hook:s3cret-value"}


def _post(payload, credentials="hook:s3cret-value", *, url=URL, **headers):
    auth = base64.b64encode(credentials.encode()).decode()
    return Client().post(
        url,
        json.dumps(payload),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Basic {auth}",
        **headers,
    )


def _bounce(email, kind="HardBounce"):
    return {
        "RecordType": "Bounce",
        "ID": 4323372036854775807,
        "Type": kind,
        "TypeCode": 1,
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "Description": "The server was unable to deliver your message (ex: unknown user).",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Email": email,
        "BouncedAt": "2027-04-10T18:51:36Z",
        "Inactive": True,
    }


def test_hard_bounce_suppresses_the_address():
    assert _post(_bounce("Gone@Example.org")).status_code == 200
    suppression = Suppression.objects.get()
    assert (suppression.email, suppression.reason) == ("gone@example.org", "bounced")
    assert suppression.note.lower().startswith("postmark")


def test_complaint_suppresses_the_address():
    payload = {**_bounce("angry@example.org", "SpamComplaint"), "RecordType": "SpamComplaint"}
    assert _post(payload).status_code == 200
    assert Suppression.objects.get().reason == "complained"


def test_repeated_reports_store_one_suppression():
    _post(_bounce("gone@example.org"))
    _post(_bounce("GONE@example.org"))
    assert Suppression.objects.count() == 1


def test_soft_bounce_does_not_suppress():
    assert _post(_bounce("full@example.org", "SoftBounce")).status_code == 200
    assert not Suppression.objects.exists()


@pytest.mark.parametrize("credentials", ["hook:wrong", "other:s3cret-value"])
def test_wrong_credentials_are_refused_and_nothing_is_stored(credentials):
    assert _post(_bounce("gone@example.org"), credentials).status_code in (400, 401, 403)
    assert not Suppression.objects.exists()


def test_missing_credentials_are_refused():
    response = Client().post(
        URL, json.dumps(_bounce("x@example.org")), content_type="application/json"
    )
    assert response.status_code in (400, 401, 403)
    assert not Suppression.objects.exists()


def test_postmark_virus_notification_does_not_suppress():
    assert _post(_bounce("scanned@example.org", "VirusNotification")).status_code == 200
    assert not Suppression.objects.exists()


# SendGrid: a "bounce" event's "type" is "bounce" (permanent) or "blocked" (the receiving
# server would not take it for now).
SENDGRID_URL = "/webhooks/anymail/sendgrid/tracking/"


def _sendgrid_bounce(email, kind, reason, status):
    return [
        {
            "email": email,
            "timestamp": 1807038000,
            "smtp-id": "<14c5d75ce93.dfd.64b469@ismtpd-555>",
            "event": "bounce",
            "type": kind,
            "reason": reason,
            "status": status,
            "sg_event_id": f"sg-{kind}-{email}",
            "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
            "bounce_classification": "Invalid Address" if kind == "bounce" else "Reputation",
        }
    ]


def test_sendgrid_hard_bounce_suppresses_the_address():
    payload = _sendgrid_bounce(
        "Gone@Example.org", "bounce", "550 5.1.1 The email account does not exist.", "5.1.1"
    )
    assert _post(payload, url=SENDGRID_URL).status_code == 200
    suppression = Suppression.objects.get()
    assert (suppression.email, suppression.reason) == ("gone@example.org", "bounced")
    assert suppression.note.lower().startswith("sendgrid")


def test_sendgrid_blocked_bounce_does_not_suppress():
    payload = _sendgrid_bounce(
        "busy@example.org", "blocked", "421 4.7.0 Try again later, closing connection.", "4.7.0"
    )
    assert _post(payload, url=SENDGRID_URL).status_code == 200
    assert not Suppression.objects.exists()


def test_sendgrid_deferred_does_not_suppress():
    payload = [
        {
            "email": "slow@example.org",
            "timestamp": 1807038000,
            "event": "deferred",
            "response": "451 4.4.1 Mailbox temporarily unavailable",
            "attempt": "3",
            "sg_event_id": "sg-deferred",
        }
    ]
    assert _post(payload, url=SENDGRID_URL).status_code == 200
    assert not Suppression.objects.exists()


def test_sendgrid_wrong_credentials_are_refused():
    payload = _sendgrid_bounce("gone@example.org", "bounce", "550 5.1.1 No such user", "5.1.1")
    assert _post(payload, "hook:wrong", url=SENDGRID_URL).status_code in (400, 401, 403)
    assert not Suppression.objects.exists()


# Mailgun: "failed" events carry "severity" (permanent or temporary) and the server's reply
# in "delivery-status"; requests are signed with the webhook signing key as well.
MAILGUN_URL = "/webhooks/anymail/mailgun/tracking/"
MAILGUN_KEY = "mailgun-signing-key"


def _mailgun_post(email, severity, code, message):
    timestamp, token = "1807038000", f"token-{severity}-{email}"
    signature = hmac.new(
        MAILGUN_KEY.encode(), f"{timestamp}{token}".encode(), hashlib.sha256
    ).hexdigest()
    payload = {
        "signature": {"timestamp": timestamp, "token": token, "signature": signature},
        "event-data": {
            "event": "failed",
            "severity": severity,
            "reason": "bounce" if severity == "permanent" else "generic",
            "recipient": email,
            "timestamp": 1807038000.5,
            "id": f"event-{severity}",
            "delivery-status": {"code": code, "message": message, "description": ""},
            "message": {"headers": {"message-id": "20270410.1@alc.example.org"}},
        },
    }
    return _post(payload, url=MAILGUN_URL)


@pytest.fixture
def mailgun_signing_key(settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_KEY}


def test_mailgun_permanent_failure_suppresses_the_address(mailgun_signing_key):
    response = _mailgun_post("Gone@Example.org", "permanent", 550, "5.1.1 No such user here")
    assert response.status_code == 200
    suppression = Suppression.objects.get()
    assert (suppression.email, suppression.reason) == ("gone@example.org", "bounced")
    assert suppression.note.lower().startswith("mailgun")


def test_mailgun_temporary_failure_does_not_suppress(mailgun_signing_key):
    response = _mailgun_post("full@example.org", "temporary", 452, "4.2.2 Mailbox full")
    assert response.status_code == 200
    assert not Suppression.objects.exists()
