"""Attacks through the provider's bounce webhook: replaying an old report to put an address
back on the suppression list after staff took it off, and reading addresses out of the logs."""

import base64
import json
import logging

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from factories import StaffFactory

from campaigns.models import ProviderEvent, Suppression

pytestmark = pytest.mark.django_db

URL = "/webhooks/anymail/postmark/tracking/"
ADDRESS = "back.again@example.org"


@pytest.fixture(autouse=True)
def webhook_secret(settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": "hook:s3cret-value"}


def _post(payload):
    auth = base64.b64encode(b"hook:s3cret-value").decode()
    response = Client().post(
        URL,
        json.dumps(payload),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Basic {auth}",
    )
    assert response.status_code == 200
    return response


def _bounce(event_id=1001, at=None):
    at = at or timezone.now()
    return {
        "RecordType": "Bounce",
        "ID": event_id,
        "Type": "HardBounce",
        "TypeCode": 1,
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "Description": "The server was unable to deliver your message (ex: unknown user).",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Email": ADDRESS,
        "BouncedAt": at.isoformat().replace("+00:00", "Z"),
        "Inactive": True,
    }


def _staff_remove_the_suppression():
    staff = Client()
    staff.force_login(StaffFactory())
    suppression = Suppression.objects.get(email=ADDRESS)
    staff.post(reverse("campaigns:suppression_delete", args=[suppression.pk]))
    assert not Suppression.objects.filter(email=ADDRESS).exists()


def test_a_replayed_bounce_does_not_put_back_a_removed_suppression():
    report = _bounce()
    _post(report)
    _staff_remove_the_suppression()
    _post(report)
    assert not Suppression.objects.filter(email=ADDRESS).exists()


def test_a_late_report_from_before_the_removal_does_not_put_it_back_either():
    sent_before = timezone.now()
    _post(_bounce(event_id=1))
    _staff_remove_the_suppression()
    _post(_bounce(event_id=2, at=sent_before))
    assert not Suppression.objects.filter(email=ADDRESS).exists()
    # A new bounce, after the removal, is news: the address goes back on the list.
    _post(_bounce(event_id=3))
    assert Suppression.objects.filter(email=ADDRESS).exists()


def test_the_same_event_id_twice_counts_once():
    _post(_bounce(event_id=77))
    _post(_bounce(event_id=77))
    assert ProviderEvent.objects.filter(event_id="77").count() == 1
    assert Suppression.objects.filter(email=ADDRESS).count() == 1


def test_a_report_without_an_id_posted_twice_counts_once():
    complaint = {**_bounce(), "RecordType": "SpamComplaint", "Type": "SpamComplaint"}
    del complaint["ID"]
    _post(complaint)
    _staff_remove_the_suppression()
    _post(complaint)
    assert ProviderEvent.objects.count() == 1
    assert not Suppression.objects.filter(email=ADDRESS).exists()


def test_the_log_names_no_address(caplog):
    with caplog.at_level(logging.DEBUG):
        _post(_bounce())
    assert caplog.records, "the report is logged"
    for record in caplog.records:
        assert ADDRESS not in record.getMessage()
        assert "back.again" not in record.getMessage()
