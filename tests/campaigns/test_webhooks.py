"""Bounce and complaint reports POSTed by the provider to anymail's tracking webhook."""

import base64
import hashlib
import hmac
import json
import warnings

import pytest
from anymail.exceptions import AnymailDeprecationWarning
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


@pytest.mark.parametrize("url", [URL, "/webhooks/anymail/sendgrid/tracking/"])
def test_without_a_configured_secret_reports_are_refused_and_nothing_is_stored(settings, url):
    settings.ANYMAIL = {k: v for k, v in settings.ANYMAIL.items() if k != "WEBHOOK_SECRET"}
    response = Client().post(url, json.dumps(_bounce("victim@example.org")), "application/json")
    assert response.status_code == 404
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
# server would not take it for now). Anymail still takes SendGrid's reports but warns that it
# no longer supports SendGrid officially (see docs/mailings.md).
sendgrid_warning = pytest.mark.filterwarnings(
    "ignore::anymail.exceptions.AnymailNotSupportedWarning"
)
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


@sendgrid_warning
def test_sendgrid_hard_bounce_suppresses_the_address():
    payload = _sendgrid_bounce(
        "Gone@Example.org", "bounce", "550 5.1.1 The email account does not exist.", "5.1.1"
    )
    assert _post(payload, url=SENDGRID_URL).status_code == 200
    suppression = Suppression.objects.get()
    assert (suppression.email, suppression.reason) == ("gone@example.org", "bounced")
    assert suppression.note.lower().startswith("sendgrid")


@sendgrid_warning
def test_sendgrid_blocked_bounce_does_not_suppress():
    payload = _sendgrid_bounce(
        "busy@example.org", "blocked", "421 4.7.0 Try again later, closing connection.", "4.7.0"
    )
    assert _post(payload, url=SENDGRID_URL).status_code == 200
    assert not Suppression.objects.exists()


@sendgrid_warning
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


@sendgrid_warning
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


# Brevo (and its old name, SendinBlue): hard_bounce, soft_bounce and invalid_email all arrive
# as "bounced", with only a free-text "reason"; the "event" field tells them apart.
BREVO_URL = "/webhooks/anymail/brevo/tracking/"


def _brevo_event(email, event, reason):
    return {
        "event": event,
        "email": email,
        "id": 1234567,
        "date": "2027-04-10 19:51:36",
        "ts": 1807041096,
        "ts_event": 1807041096,
        "ts_epoch": 1807041096000,
        "message-id": "<202704101951.1@alc.example.org>",
        "subject": "Elections at Cardiff Council",
        "tags": [],
        "sending_ip": "192.0.2.10",
        "reason": reason,
    }


@pytest.mark.parametrize("url", [BREVO_URL, "/webhooks/anymail/sendinblue/tracking/"])
def test_brevo_soft_bounce_does_not_suppress(url):
    payload = _brevo_event("full@example.org", "soft_bounce", "Mailbox is full, try later")
    with warnings.catch_warnings():
        # The SendinBlue address still works; anymail warns that it is deprecated.
        warnings.simplefilter("ignore", AnymailDeprecationWarning)
        assert _post(payload, url=url).status_code == 200
    assert not Suppression.objects.exists()


@pytest.mark.parametrize("event", ["hard_bounce", "invalid_email"])
def test_brevo_hard_bounce_suppresses_the_address(event):
    payload = _brevo_event("Gone@Example.org", event, "Unknown user, no such mailbox")
    assert _post(payload, url=BREVO_URL).status_code == 200
    suppression = Suppression.objects.get()
    assert (suppression.email, suppression.reason) == ("gone@example.org", "bounced")
    assert suppression.note.startswith("Brevo")


def test_brevo_wrong_credentials_are_refused():
    payload = _brevo_event("gone@example.org", "hard_bounce", "Unknown user")
    assert _post(payload, "hook:wrong", url=BREVO_URL).status_code in (400, 401, 403)
    assert not Suppression.objects.exists()


# Mandrill: form-encoded "mandrill_events", signed with the webhook key over the exact URL it
# was called with (basic auth included) followed by the sorted POST fields.
MANDRILL_URL = "/webhooks/anymail/mandrill/tracking/"
MANDRILL_KEY = "mandrill-webhook-key"


@pytest.fixture
def mandrill_webhook_key(settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "MANDRILL_WEBHOOK_KEY": MANDRILL_KEY}


def _mandrill_post(event, email, *, key=MANDRILL_KEY, **msg):
    events = json.dumps(
        [
            {
                "event": event,
                "_id": f"mandrill-{event}-{email}",
                "ts": 1807041096,
                "msg": {
                    "ts": 1807041000,
                    "_id": f"mandrill-{event}-{email}",
                    "email": email,
                    "subject": "Elections at Cardiff Council",
                    "sender": "mailings@alc.example.org",
                    "tags": [],
                    "metadata": {},
                    "state": "bounced" if event == "hard_bounce" else "soft-bounced",
                    **msg,
                },
            }
        ]
    )
    credentials = "hook:s3cret-value"
    signed = f"http://{credentials}@testserver{MANDRILL_URL}mandrill_events{events}"
    signature = base64.b64encode(
        hmac.new(key.encode(), signed.encode(), hashlib.sha1).digest()
    ).decode()
    auth = base64.b64encode(credentials.encode()).decode()
    return Client().post(
        MANDRILL_URL,
        {"mandrill_events": events},
        HTTP_AUTHORIZATION=f"Basic {auth}",
        HTTP_X_MANDRILL_SIGNATURE=signature,
    )


def test_mandrill_soft_bounce_without_diagnostic_does_not_suppress(mandrill_webhook_key):
    response = _mandrill_post("soft_bounce", "full@example.org", bounce_description="mailbox_full")
    assert response.status_code == 200
    assert not Suppression.objects.exists()


def test_mandrill_hard_bounce_suppresses_the_address(mandrill_webhook_key):
    response = _mandrill_post(
        "hard_bounce",
        "Gone@Example.org",
        bounce_description="bad_mailbox",
        diag="smtp;550 5.1.1 The email account that you tried to reach does not exist.",
    )
    assert response.status_code == 200
    suppression = Suppression.objects.get()
    assert (suppression.email, suppression.reason) == ("gone@example.org", "bounced")
    assert suppression.note.startswith("Mandrill")


def test_mandrill_wrong_signature_is_refused(mandrill_webhook_key):
    response = _mandrill_post("hard_bounce", "gone@example.org", key="someone-else's-key")
    assert response.status_code in (400, 401, 403)
    assert not Suppression.objects.exists()


# MailerSend: JSON with the activity type in data.type (hard_bounced or soft_bounced), signed
# with an HMAC-SHA256 of the body in the Signature header.
MAILERSEND_URL = "/webhooks/anymail/mailersend/tracking/"
MAILERSEND_SECRET = "mailersend-signing-secret"


@pytest.fixture
def mailersend_signing_secret(settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "MAILERSEND_SIGNING_SECRET": MAILERSEND_SECRET}


def _mailersend_post(kind, email, reason, *, secret=MAILERSEND_SECRET):
    body = json.dumps(
        {
            "type": f"activity.{kind}",
            "domain_id": "7z3m5jgrogdpyo6n",
            "created_at": "2027-04-10T18:51:36.000000Z",
            "webhook_id": "2351ndgwr4zq5x8y",
            "url": f"https://alc.example.org{MAILERSEND_URL}",
            "data": {
                "object": "activity",
                "id": f"activity-{kind}-{email}",
                "type": kind,
                "created_at": "2027-04-10T18:51:36.000000Z",
                "email": {
                    "object": "email",
                    "id": "62fb66bef54a112e920b5493",
                    "created_at": "2027-04-10T18:51:30.000000Z",
                    "from": "mailings@alc.example.org",
                    "subject": "Elections at Cardiff Council",
                    "status": "rejected",
                    "tags": [],
                    "message": {"object": "message", "id": "62fb66bef54a112e920b5492"},
                    "recipient": {"object": "recipient", "id": "62c69be7", "email": email},
                },
                "morph": {"object": "recipient_bounce", "reason": reason},
                "template_id": "",
            },
        }
    ).encode()
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    auth = base64.b64encode(b"hook:s3cret-value").decode()
    return Client().post(
        MAILERSEND_URL,
        body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Basic {auth}",
        HTTP_SIGNATURE=signature,
    )


def test_mailersend_soft_bounce_does_not_suppress(mailersend_signing_secret):
    response = _mailersend_post("soft_bounced", "full@example.org", "Mailbox full")
    assert response.status_code == 200
    assert not Suppression.objects.exists()


def test_mailersend_hard_bounce_suppresses_the_address(mailersend_signing_secret):
    response = _mailersend_post("hard_bounced", "Gone@Example.org", "Host or domain not found")
    assert response.status_code == 200
    suppression = Suppression.objects.get()
    assert (suppression.email, suppression.reason) == ("gone@example.org", "bounced")
    assert suppression.note.startswith("MailerSend")


def test_mailersend_wrong_signature_is_refused(mailersend_signing_secret):
    response = _mailersend_post("hard_bounced", "gone@example.org", "No such user", secret="x")
    assert response.status_code in (400, 401, 403)
    assert not Suppression.objects.exists()


# Mailjet: every "bounce" event says whether it is permanent in "hard_bounce".
MAILJET_URL = "/webhooks/anymail/mailjet/tracking/"


def _mailjet_bounce(email, hard, error):
    return [
        {
            "event": "bounce",
            "time": 1807041096,
            "MessageID": 19421777396190490,
            "email": email,
            "mj_campaign_id": 0,
            "mj_contact_id": 1,
            "customcampaign": "",
            "CustomID": "",
            "Payload": "",
            "blocked": False,
            "hard_bounce": hard,
            "error_related_to": "recipient",
            "error": error,
            "comment": "",
        }
    ]


def test_mailjet_soft_bounce_does_not_suppress():
    payload = _mailjet_bounce("full@example.org", False, "quota exceeded")
    assert _post(payload, url=MAILJET_URL).status_code == 200
    assert not Suppression.objects.exists()


def test_mailjet_hard_bounce_suppresses_the_address():
    payload = _mailjet_bounce("Gone@Example.org", True, "user unknown")
    assert _post(payload, url=MAILJET_URL).status_code == 200
    assert Suppression.objects.get().email == "gone@example.org"


# Amazon SES: anymail's SES webhook view needs boto3, which the portal does not install, so the
# rule is checked on the tracking signal that view sends, with SES's own event as esp_event.
def _ses_bounce(email, bounce_type, diagnostic):
    from anymail.signals import AnymailTrackingEvent, EventType, RejectReason, tracking

    ses_event = {
        "eventType": "Bounce",
        "bounce": {
            "bounceType": bounce_type,
            "bounceSubType": "General",
            "bouncedRecipients": [{"emailAddress": email, "diagnosticCode": diagnostic}],
        },
        "mail": {"messageId": "0100017d-example", "destination": [email]},
    }
    event = AnymailTrackingEvent(
        event_type=EventType.BOUNCED,
        recipient=email,
        esp_event=ses_event,
        reject_reason=RejectReason.BOUNCED,
        mta_response=diagnostic,
    )
    tracking.send(sender=object, event=event, esp_name="Amazon SES")


def test_ses_transient_bounce_does_not_suppress_even_with_a_5xx_reply():
    # SES's own field wins over a reply code that looks permanent.
    _ses_bounce("full@example.org", "Transient", "smtp; 552 5.2.2 Mailbox full")
    assert not Suppression.objects.exists()


def test_ses_permanent_bounce_suppresses_the_address():
    _ses_bounce("Gone@Example.org", "Permanent", "smtp; 550 5.1.1 user unknown")
    suppression = Suppression.objects.get()
    assert (suppression.email, suppression.reason) == ("gone@example.org", "bounced")
    assert suppression.note.startswith("Amazon SES:")
