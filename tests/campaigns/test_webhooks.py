"""Bounce and complaint reports POSTed by the provider to anymail's tracking webhook."""

import base64
import json

import pytest
from django.test import Client

from campaigns.models import Suppression

pytestmark = pytest.mark.django_db

URL = "/webhooks/anymail/postmark/tracking/"


@pytest.fixture(autouse=True)
def webhook_secret(settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": "hook:s3cret-value"}


def _post(payload, credentials="hook:s3cret-value"):
    auth = base64.b64encode(credentials.encode()).decode()
    return Client().post(
        URL,
        json.dumps(payload),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Basic {auth}",
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
