"""Retention: each job removes exactly what docs/operations.md's table says, and nothing else.
Records are made at known ages with the clock moved, then the job runs "today"."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone
from factories import CouncilFactory, MailingFactory, RegionFactory

from campaigns.models import Delivery
from campaigns.services.retention import delivery_addresses_anonymise
from members.models import CouncillorImport, Decision, JoinRequest, Notice
from members.services import retention

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
TODAY = datetime.datetime(2027, 6, 1, 12, tzinfo=LONDON)


def _days_ago(days):
    return time_machine.travel(TODAY - datetime.timedelta(days=days), tick=False)


@pytest.fixture
def today():
    with time_machine.travel(TODAY, tick=False):
        yield


def test_expired_sessions_are_cleared_and_live_ones_kept():
    with _days_ago(30):
        old = SessionStore()
        old.set_expiry(60)
        old.create()
    with time_machine.travel(TODAY, tick=False):
        live = SessionStore()
        live.create()
        assert retention.sessions_expired_clear() == 1
    assert list(Session.objects.values_list("session_key", flat=True)) == [live.session_key]


def _import(status, *, days):
    with _days_ago(days):
        return CouncillorImport.objects.create(
            region=RegionFactory(),
            filename="f.csv",
            content="full_name,email\nAda,ada@example.org\n",
            status=status,
            report={"rows": [{"email": "ada@example.org"}]},
        )


def test_import_files_go_after_their_days_unless_still_in_use(settings, today):
    settings.IMPORT_FILE_DAYS = 30
    Status = CouncillorImport.Status
    old_preview = _import(Status.PREVIEWED, days=31)
    old_failed = _import(Status.FAILED, days=31)
    recent = _import(Status.FAILED, days=29)
    queued = _import(Status.QUEUED, days=31)
    assert retention.import_files_clear() == 2
    contents = {
        imp.pk: imp.content
        for imp in CouncillorImport.objects.filter(
            pk__in=[old_preview.pk, old_failed.pk, recent.pk, queued.pk]
        )
    }
    assert contents[old_preview.pk] == contents[old_failed.pk] == ""
    assert contents[recent.pk] and contents[queued.pk]
    # The report, the import's record, stays.
    assert CouncillorImport.objects.get(pk=old_failed.pk).report["rows"]


def _join_request(status, *, days, asked=True, decided=True):
    with _days_ago(days):
        return JoinRequest.objects.create(
            full_name="Someone",
            email=f"{status}-{days}-{asked}@example.org",
            council=CouncilFactory(),
            ward="W",
            status=status,
            asked_to_join=asked,
            decided_at=timezone.now() if decided and status != Decision.PENDING else None,
        )


def test_refused_and_undecided_join_requests_are_purged_after_their_days(settings, today):
    settings.JOIN_REQUEST_DAYS = 180
    refused_old = _join_request(Decision.REFUSED, days=181)
    pending_old = _join_request(Decision.PENDING, days=181)
    kept = [
        _join_request(Decision.REFUSED, days=179),
        _join_request(Decision.PENDING, days=179),
        _join_request(Decision.APPROVED, days=400),
        _join_request(Decision.REFUSED, days=400, asked=False),  # an invitation's record
    ]
    assert retention.join_requests_purge() == 2
    assert not JoinRequest.objects.filter(pk__in=[refused_old.pk, pending_old.pk]).exists()
    assert JoinRequest.objects.filter(pk__in=[r.pk for r in kept]).count() == len(kept)


def _notice(status, *, days, email):
    with _days_ago(days):
        return Notice.objects.create(
            kind="invitation",
            occasion=email,
            to_email=email,
            subject="Your invitation",
            body_text="Dear Ada",
            status=status,
        )


def test_notices_lose_their_address_and_words_after_their_days(settings, today):
    settings.NOTICE_DAYS = 365
    old = _notice(Notice.Status.SENT, days=366, email="old@example.org")
    recent = _notice(Notice.Status.SENT, days=300, email="recent@example.org")
    waiting = _notice(Notice.Status.QUEUED, days=400, email="waiting@example.org")
    assert retention.notices_anonymise() == 1
    old.refresh_from_db()
    assert (old.to_email, old.subject, old.body_text) == (f"removed-{old.pk}@invalid", "", "")
    assert old.status == Notice.Status.SENT
    for kept in (recent, waiting):
        kept.refresh_from_db()
        assert kept.to_email.endswith("@example.org") and kept.body_text == "Dear Ada"


def test_delivery_addresses_go_after_their_days_and_the_counts_stay(settings, today):
    settings.DELIVERY_ADDRESS_DAYS = 730
    old = MailingFactory(status="sent", finished_at=TODAY - datetime.timedelta(days=731))
    recent = MailingFactory(status="sent", finished_at=TODAY - datetime.timedelta(days=700))
    sending = MailingFactory(status="sending")
    for mailing in (old, recent, sending):
        for n in range(3):
            Delivery.objects.create(
                mailing=mailing, email=f"m{mailing.pk}-{n}@example.org", status="sent",
                context={"recipient": {"first_name": "Ada"}},
            )  # fmt: skip
    assert delivery_addresses_anonymise() == 3
    assert Delivery.objects.filter(mailing=old).count() == 3
    assert not Delivery.objects.filter(mailing=old, email__endswith="@example.org").exists()
    assert not Delivery.objects.filter(mailing=old).exclude(context={}).exists()
    assert Delivery.objects.filter(email__endswith="@example.org").count() == 6
