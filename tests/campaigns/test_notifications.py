"""The approval flow by email: national staff hear when a representative submits a mailing; the
representative who drafted it hears when it is approved, scheduled, started and sent. And
"approved" is visible on the list and the page."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from factories import (
    CouncilFactory,
    CouncilGroupFactory,
    MailingFactory,
    RegionFactory,
    RepresentativeFactory,
    StaffFactory,
)
from polling import wait_for

from campaigns.models import Mailing
from campaigns.services import compose, lifecycle
from campaigns.services.notifications import mailing_notices_queue
from members.services.notices import notices_send_due


def mail_to(catcher, address, words):
    """Messages the catcher received for `address` whose subject contains `words`."""
    return [m for m in catcher.messages if m.rcpt_tos == [address] and words in m["Subject"]]


def body(message) -> str:
    return message.get_body(("plain",)).get_content()


@pytest.fixture
def region():
    return RegionFactory(name="Wales")


@pytest.fixture
def rep(region):
    return RepresentativeFactory(region=region).user


@pytest.fixture
def draft(region, rep):
    CouncilGroupFactory(
        council=CouncilFactory(region=region), contact_email="group@notify.example.org"
    )
    return MailingFactory(
        subject="Budget briefing", regions=[region], owner_region=region, created_by=rep
    )


@pytest.mark.django_db(transaction=True)
def test_submitting_for_approval_emails_national_staff(
    client, rep, draft, celery_worker, worker_smtp
):
    staff = [StaffFactory(), StaffFactory()]
    client.force_login(rep)
    client.post(reverse("campaigns:mailing_submit", args=[draft.pk]))
    for person in staff:
        [message] = wait_for(
            lambda p=person: mail_to(worker_smtp, p.email, "awaiting approval"), timeout=30
        )
        assert "Budget briefing" in message["Subject"]
        assert f"/campaigns/mailings/{draft.pk}/" in body(message)
    assert not mail_to(worker_smtp, rep.email, "awaiting approval")


@pytest.mark.django_db(transaction=True)
def test_rep_hears_when_staff_approve_schedule_start_and_finish(
    client, rep, draft, celery_worker, worker_smtp
):
    staff = StaffFactory()
    client.force_login(staff)
    client.post(reverse("campaigns:mailing_approve", args=[draft.pk]))
    wait_for(lambda: mail_to(worker_smtp, rep.email, "approved"), timeout=30)

    when = timezone.now() + timedelta(days=3)
    compose.mailing_schedule_at(mailing=draft, user=staff, when=when)
    [scheduled] = wait_for(lambda: mail_to(worker_smtp, rep.email, "scheduled"), timeout=30)
    assert f"{timezone.localtime(when):%-d %B %Y}" in body(scheduled)

    lifecycle.mailing_unschedule(mailing_id=draft.pk, user=staff)
    assert compose.mailing_send_now(mailing=Mailing.objects.get(pk=draft.pk), user=staff)
    wait_for(lambda: mail_to(worker_smtp, rep.email, "is being sent"), timeout=30)
    [finished] = wait_for(lambda: mail_to(worker_smtp, rep.email, "has been sent"), timeout=60)
    assert "Sent: 1" in body(finished) and "Failed: 0" in body(finished)
    # The group itself got the mailing, once.
    assert len([m for m in worker_smtp.messages if m.rcpt_tos == ["group@notify.example.org"]]) == 1


@pytest.mark.django_db
def test_nobody_is_told_about_a_national_mailing_being_approved_or_sent(smtp):
    mailing = MailingFactory(created_by=StaffFactory())
    assert mailing_notices_queue(mailing=mailing, event="finished") == 0
    assert notices_send_due() == 0
    assert smtp.messages == []


@pytest.mark.django_db
def test_finished_email_counts_what_became_of_each_address(smtp, rep, draft):
    Mailing.objects.filter(pk=draft.pk).update(status=Mailing.Status.SENT)
    draft.deliveries.create(email="a@example.org", status="sent")
    draft.deliveries.create(email="b@example.org", status="failed")
    draft.deliveries.create(email="c@example.org", status="suppressed")
    assert mailing_notices_queue(mailing=draft, event="finished") == 1
    assert notices_send_due() == 1
    [message] = smtp.messages
    assert message.rcpt_tos == [rep.email]
    assert "Sent: 1" in body(message) and "Failed: 1" in body(message)
    assert "Suppressed (not written to): 1" in body(message)


@pytest.mark.django_db
def test_once_approved_the_rep_cannot_submit_again(client, rep, draft):
    compose.mailing_approve(mailing=draft, user=StaffFactory())
    client.force_login(rep)
    page = client.get(draft.get_absolute_url()).text
    assert "Submit for approval" not in page
    assert 'id="approved-notice"' in page
    response = client.post(reverse("campaigns:mailing_submit", args=[draft.pk]))
    assert response.status_code == 403
    draft.refresh_from_db()
    assert draft.status == Mailing.Status.DRAFT and draft.approved_by is not None


@pytest.mark.django_db
def test_mailing_list_shows_and_filters_approval(client, region, rep):
    awaiting = MailingFactory(
        subject="Awaiting one", owner_region=region, status=Mailing.Status.AWAITING_APPROVAL
    )
    approved = MailingFactory(subject="Approved one", owner_region=region, approved_by=rep)
    sent = MailingFactory(
        subject="Sent one", owner_region=region, approved_by=rep, status=Mailing.Status.SENT
    )
    national = MailingFactory(subject="National one")
    client.force_login(StaffFactory())
    url = reverse("campaigns:mailings")
    everything = client.get(url).text
    assert everything.count('class="badge badge-approved"') == 2
    assert everything.count('class="badge badge-awaiting"') == 1
    waiting = client.get(url, {"show": "awaiting"}).text
    assert awaiting.subject in waiting and approved.subject not in waiting
    ready = client.get(url, {"show": "approved"}).text
    assert approved.subject in ready
    for other in (awaiting, sent, national):
        assert other.subject not in ready
