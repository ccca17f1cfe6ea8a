"""A scheduled mailing is started by celery beat's mailings_start_due task at its time, not
before, and delivered by a worker."""

import collections
import re
import time
import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from factories import (
    CouncilFactory,
    CouncilGroupFactory,
    MailingFactory,
    RegionFactory,
    StaffFactory,
)
from polling import wait_for

from campaigns.models import Mailing
from campaigns.services import lifecycle

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

AHEAD = 8  # seconds: time for beat and the worker to start, and to look several times


def test_beat_starts_a_scheduled_mailing_at_its_time_and_not_before(
    senders, monkeypatch, received_addresses
):
    region = RegionFactory(name=f"Region {uuid.uuid4().hex[:8]}")
    addresses = {f"group{n}@scheduled.example.org" for n in range(3)}
    for address in sorted(addresses):
        CouncilGroupFactory(council=CouncilFactory(region=region), contact_email=address)
    mailing = MailingFactory(recipients=["contact"], regions=[region])
    arrivals = []
    original = senders.smtp._received

    def timed(*args):
        arrivals.append(timezone.now())
        original(*args)

    senders.smtp._received = timed
    when = timezone.now() + timedelta(seconds=AHEAD)
    lifecycle.mailing_schedule(mailing_id=mailing.pk, when=when)
    # Beat looks for due mailings every second here (every minute by default).
    monkeypatch.setenv("MAILING_SCHEDULE_CHECK_SECONDS", "1")
    senders.start()
    senders.beat()
    while timezone.now() < when - timedelta(seconds=0.5):
        assert Mailing.objects.get(pk=mailing.pk).status == Mailing.Status.SCHEDULED
        assert not arrivals
        time.sleep(0.2)
    wait_for(lambda: Mailing.objects.get(pk=mailing.pk).status == Mailing.Status.SENT, timeout=60)
    mailing.refresh_from_db()
    assert mailing.started_at >= when
    assert min(arrivals) >= when
    assert collections.Counter(received_addresses(senders.smtp)) == dict.fromkeys(addresses, 1)
    # Beat ran with the scheduler production uses, which keeps the schedule in the database
    # (it writes run counts back only every few minutes, so those are not checked).
    check = PeriodicTask.objects.get(task="campaigns.tasks.mailings_start_due")
    assert (check.interval.every, check.interval.period) == (1, "seconds")


# --- when a scheduled mailing cannot start ---------------------------------------------------


def test_scheduling_a_mailing_with_nobody_to_write_to_is_refused_next_to_the_field(client):
    mailing = MailingFactory(regions=[RegionFactory(name=f"Empty {uuid.uuid4().hex[:8]}")])
    client.force_login(StaffFactory())
    when = timezone.localtime(timezone.now() + timedelta(days=2))
    response = client.post(
        reverse("campaigns:mailing_schedule", args=[mailing.pk]),
        {"when": f"{when:%Y-%m-%dT%H:%M}"},
    )
    assert response.status_code == 400
    error = response.text.split('id="id_when_error"')[1].split("</ul>")[0]
    assert "Nobody to send to" in error
    fields = re.findall(r'<input[^>]*name="when_[01]"[^>]*>', response.text)
    assert len(fields) == 2  # the date and the time
    for field in fields:
        assert "id_when_error" in re.search(r'aria-describedby="([^"]*)"', field).group(1)
    assert Mailing.objects.get(pk=mailing.pk).status == Mailing.Status.DRAFT


def scheduled_mailing(*, late_by: timedelta, scheduler):
    region = RegionFactory(name=f"Region {uuid.uuid4().hex[:8]}")
    group = CouncilGroupFactory(
        council=CouncilFactory(region=region), contact_email=f"{uuid.uuid4().hex[:8]}@ex.org"
    )
    mailing = MailingFactory(recipients=["contact"], regions=[region])
    lifecycle.mailing_schedule(mailing_id=mailing.pk, when=timezone.now(), user=scheduler)
    Mailing.objects.filter(pk=mailing.pk).update(scheduled_for=timezone.now() - late_by)
    return mailing, group


def test_a_due_mailing_that_cannot_start_goes_back_to_draft_with_the_reason_shown_and_emailed(
    client, celery_worker, worker_smtp
):
    scheduler = StaffFactory()
    mailing, group = scheduled_mailing(late_by=timedelta(minutes=1), scheduler=scheduler)
    group.delete()
    assert lifecycle.mailings_start_due() == []
    mailing.refresh_from_db()
    assert mailing.status == Mailing.Status.DRAFT and mailing.scheduled_for is None
    assert "Nobody to send to" in mailing.schedule_problem
    client.force_login(StaffFactory())
    notice = client.get(mailing.get_absolute_url()).text.split('id="schedule-problem"')[1]
    assert "Nobody to send to" in notice.split("</div>")[0]
    [message] = wait_for(
        lambda: [m for m in worker_smtp.messages if m.rcpt_tos == [scheduler.email]], timeout=30
    )
    assert "not sent" in message["Subject"]
    assert "Nobody to send to" in message.get_body(("plain",)).get_content()


def test_a_mailing_more_than_the_allowed_lateness_late_is_not_started(
    settings, celery_worker, worker_smtp
):
    settings.MAILING_SCHEDULE_MAX_LATENESS = 60
    scheduler = StaffFactory()
    late, _ = scheduled_mailing(late_by=timedelta(minutes=61), scheduler=scheduler)
    on_time, _ = scheduled_mailing(late_by=timedelta(minutes=59), scheduler=StaffFactory())
    assert lifecycle.mailings_start_due() == [on_time.pk]
    lifecycle.mailing_cancel(mailing_id=on_time.pk)
    late.refresh_from_db()
    assert late.status == Mailing.Status.DRAFT
    assert late.schedule_problem == "Not started: more than 60 minutes late"
    assert not late.deliveries.exists()
    assert late.history.first().history_change_reason == "Not started: more than 60 minutes late"
    [message] = wait_for(
        lambda: [m for m in worker_smtp.messages if m.rcpt_tos == [scheduler.email]], timeout=30
    )
    assert "more than 60 minutes late" in message.get_body(("plain",)).get_content()
