import re

import pytest
from django.urls import reverse
from django.utils import timezone
from factories import (
    MailingFactory,
    RegionFactory,
    RepresentativeFactory,
    StaffFactory,
    UserFactory,
)

from campaigns.models import Delivery, Mailing, Suppression

pytestmark = pytest.mark.django_db


@pytest.fixture
def wales():
    return RegionFactory(name="Wales")


@pytest.fixture
def mailing(wales):
    mailing = MailingFactory(owner_region=wales, status=Mailing.Status.SENDING)
    Delivery.objects.create(mailing=mailing, email="a@example.org", status="sent")
    Delivery.objects.create(
        mailing=mailing, email="b@example.org", status="failed", last_error="550 no <b>"
    )
    Delivery.objects.create(mailing=mailing, email="c@example.org")
    return mailing


def test_staff_see_progress_json(client, mailing):
    client.force_login(StaffFactory())
    data = client.get(reverse("campaigns:mailing_progress", args=[mailing.pk])).json()
    assert (data["sent"], data["failed"], data["pending"], data["total"]) == (1, 1, 1, 3)
    assert data["done"] == 2
    assert data["status"] == "sending"


@pytest.fixture
def mixed(mailing):
    """Besides one sent, one failed and one pending: suppressed, cancelled and being sent."""
    for email, status in [
        ("d@example.org", "suppressed"),
        ("e@example.org", "cancelled"),
        ("f@example.org", "claimed"),
    ]:
        Delivery.objects.create(mailing=mailing, email=email, status=status)
    return mailing


@pytest.mark.parametrize("page", ["mailing_sending", "mailing"])
def test_progress_bar_counts_every_finished_message_not_only_the_sent(client, mixed, page):
    client.force_login(StaffFactory())
    response = client.get(reverse(f"campaigns:{page}", args=[mixed.pk]))
    assert 'max="6" value="4"' in response.text
    summary = response.text.split('id="mailing-progress-summary"')[1].split("</p>")[0]
    assert " ".join(re.sub(r"<[^>]+>", "", summary).split()) == (
        'role="status" aria-live="polite">Sending: 4 of 6 messages finished '
        "(sent, failed, suppressed or cancelled); 2 still to send."
    )


def test_progress_bar_is_full_when_nothing_is_left_to_send(client, mixed):
    Delivery.objects.filter(mailing=mixed, status__in=["pending", "claimed"]).update(status="sent")
    client.force_login(StaffFactory())
    response = client.get(reverse("campaigns:mailing_sending", args=[mixed.pk]))
    assert 'max="6" value="6"' in response.text


def test_sending_page_shows_counts_and_failed_replies_escaped(client, mailing):
    client.force_login(StaffFactory())
    response = client.get(reverse("campaigns:mailing_sending", args=[mailing.pk]))
    assert response.status_code == 200
    assert "b@example.org" in response.text
    assert "550 no &lt;b&gt;" in response.text
    assert "Pause" in response.text


def test_rep_sees_their_regions_progress_but_cannot_control_it(client, mailing, wales):
    rep = RepresentativeFactory(region=wales).user
    client.force_login(rep)
    assert client.get(reverse("campaigns:mailing_progress", args=[mailing.pk])).status_code == 200
    for name in ("mailing_pause", "mailing_cancel", "mailing_resend_failed"):
        assert client.post(reverse(f"campaigns:{name}", args=[mailing.pk])).status_code == 403
    assert Mailing.objects.get(pk=mailing.pk).status == Mailing.Status.SENDING


def test_rep_of_another_region_gets_404(client, mailing):
    rep = RepresentativeFactory(region=RegionFactory(name="Scotland")).user
    client.force_login(rep)
    assert client.get(reverse("campaigns:mailing_progress", args=[mailing.pk])).status_code == 404
    assert client.post(reverse("campaigns:mailing_pause", args=[mailing.pk])).status_code == 404


def test_councillor_gets_404(client, mailing):
    client.force_login(UserFactory())
    assert client.get(reverse("campaigns:mailing_progress", args=[mailing.pk])).status_code == 404


def test_staff_pause_resume_cancel_and_resend(client, mailing, django_capture_on_commit_callbacks):
    client.force_login(StaffFactory())
    client.post(reverse("campaigns:mailing_pause", args=[mailing.pk]))
    assert Mailing.objects.get(pk=mailing.pk).status == Mailing.Status.PAUSED
    with django_capture_on_commit_callbacks():
        client.post(reverse("campaigns:mailing_resume", args=[mailing.pk]))
    assert Mailing.objects.get(pk=mailing.pk).status == Mailing.Status.SENDING
    client.post(reverse("campaigns:mailing_resend_failed", args=[mailing.pk]), {"kind": "all"})
    assert Delivery.objects.get(email="b@example.org").status == "pending"
    client.post(reverse("campaigns:mailing_cancel", args=[mailing.pk]))
    assert Mailing.objects.get(pk=mailing.pk).status == Mailing.Status.CANCELLED
    assert Delivery.objects.filter(status="cancelled").count() == 2


def test_progress_needs_login(client, mailing):
    response = client.get(reverse("campaigns:mailing_progress", args=[mailing.pk]))
    assert response.status_code == 302


def test_staff_add_and_remove_suppressions(client):
    client.force_login(StaffFactory())
    url = reverse("campaigns:suppressions")
    client.post(url, {"email": "Someone@Example.org", "note": "<script>asked by phone</script>"})
    suppression = Suppression.objects.get()
    assert (suppression.email, suppression.reason) == ("someone@example.org", "staff")
    page = client.get(url)
    assert "someone@example.org" in page.text
    assert "&lt;script&gt;" in page.text
    client.post(reverse("campaigns:suppression_delete", args=[suppression.pk]))
    assert not Suppression.objects.exists()


def test_bad_email_is_reported_next_to_the_field(client):
    client.force_login(StaffFactory())
    response = client.post(reverse("campaigns:suppressions"), {"email": "not an address"})
    assert response.status_code == 200
    assert 'aria-describedby="id_email_error"' in response.text
    assert not Suppression.objects.exists()


def test_suppression_list_is_staff_only(client, wales):
    client.force_login(RepresentativeFactory(region=wales).user)
    assert client.get(reverse("campaigns:suppressions")).status_code == 403
    client.post(reverse("campaigns:suppressions"), {"email": "x@example.org"})
    assert not Suppression.objects.exists()


def test_suppression_list_makes_a_fixed_number_of_queries(client, django_assert_max_num_queries):
    client.force_login(StaffFactory())
    Suppression.objects.bulk_create(
        [Suppression(email=f"s{n}@example.org", reason="staff") for n in range(300)]
    )
    with django_assert_max_num_queries(20):
        assert client.get(reverse("campaigns:suppressions")).status_code == 200


def failed_create(mailing, count):
    Delivery.objects.bulk_create(
        Delivery(mailing=mailing, email=f"f{n:04d}@example.org", status="failed", attempts=5)
        for n in range(count)
    )


def test_failed_addresses_past_the_first_page_can_be_seen(client):
    mailing = MailingFactory(status=Mailing.Status.SENT)
    failed_create(mailing, 450)
    client.force_login(StaffFactory())
    url = reverse("campaigns:mailing_sending", args=[mailing.pk])
    first = client.get(url).text
    assert "1 to 200 of 450" in first
    assert "f0199@example.org" in first and "f0200@example.org" not in first
    last = client.get(url, {"failed_page": 3}).text
    assert "401 to 450 of 450" in last
    assert "f0449@example.org" in last and "f0399@example.org" not in last
    assert 'aria-label="Pages of failed addresses"' in last


@pytest.mark.parametrize("count", [20, 2000])
def test_sending_page_makes_a_fixed_number_of_queries(client, count, django_assert_max_num_queries):
    mailing = MailingFactory(status=Mailing.Status.SENT)
    failed_create(mailing, count)
    client.force_login(StaffFactory())
    with django_assert_max_num_queries(20):
        response = client.get(
            reverse("campaigns:mailing_sending", args=[mailing.pk]), {"failed_page": 2}
        )
    # Page 2 of 20 rows is out of range, and shows the last page: all 20.
    assert response.text.count('class="sending-email"') == min(count, 200)


@pytest.mark.parametrize(
    "status, shown",
    [("sending", True), ("paused", True), ("sent", True), ("cancelled", False)],
)
def test_try_failed_again_is_offered_only_while_it_can_work(client, mailing, status, shown):
    Mailing.objects.filter(pk=mailing.pk).update(status=status)
    client.force_login(StaffFactory())
    page = client.get(reverse("campaigns:mailing_sending", args=[mailing.pk])).text
    assert ("Try the 1 failed address again" in page) is shown


@pytest.mark.parametrize("page", ["mailing_sending", "mailing"])
def test_mailing_pages_show_the_recent_sending_rate(client, mailing, page):
    Delivery.objects.bulk_create(
        Delivery(mailing=mailing, email=f"r{n}@example.org", status="sent", sent_at=timezone.now())
        for n in range(25)
    )
    client.force_login(StaffFactory())
    response = client.get(reverse(f"campaigns:{page}", args=[mailing.pk]))
    # 25 messages sent in the last ten seconds; the progress JSON says the same, for the script.
    assert re.search(r'data-field="rate_per_second">\s*2\.5\s*<', response.text)
    progress = client.get(reverse("campaigns:mailing_progress", args=[mailing.pk])).json()
    assert progress["rate_per_second"] == 2.5


def finished(mailing, status="sent"):
    from datetime import datetime

    started = timezone.make_aware(datetime(2026, 11, 28, 12, 30))
    Mailing.objects.filter(pk=mailing.pk).update(
        status=status,
        started_at=started,
        finished_at=started + timezone.timedelta(minutes=10),
    )
    Delivery.objects.filter(status="pending").update(status="sent")
    return Mailing.objects.get(pk=mailing.pk)


def test_finished_mailing_shows_its_finish_time_in_24_hours_and_its_average_rate(client, mailing):
    Delivery.objects.bulk_create(
        Delivery(mailing=mailing, email=f"r{n}@example.org", status="sent") for n in range(1198)
    )
    mailing = finished(mailing)
    client.force_login(StaffFactory())
    page = client.get(reverse("campaigns:mailing_sending", args=[mailing.pk])).text
    assert "Started 28 November 2026, 12:30" in page
    assert '<span data-field="finished_at">28 November 2026, 12:40</span></span>.</p>' in page
    assert "p.m." not in page and ".." not in page.split('id="sending-times"')[1].split("</p>")[0]
    # 1,200 sent in ten minutes: two a second on average, not the last ten seconds' nought.
    assert "Average messages per second" in page
    assert re.search(r'data-field="rate_per_second">\s*2\.0\s*<', page)
    progress = client.get(reverse("campaigns:mailing_progress", args=[mailing.pk])).json()
    assert progress["finished"] is True
    assert progress["finished_at"] == "28 November 2026, 12:40"
    assert progress["rate_per_second"] == 2.0


@pytest.mark.parametrize("status", ["sent", "cancelled"])
def test_finished_mailing_without_failures_has_no_empty_control_section(client, mailing, status):
    Delivery.objects.filter(status="failed").delete()
    mailing = finished(mailing, status)
    client.force_login(StaffFactory())
    page = client.get(reverse("campaigns:mailing_sending", args=[mailing.pk])).text
    assert 'id="control-heading"' not in page


def test_sending_mailing_marks_its_controls_for_the_script_to_hide_when_it_finishes(
    client, mailing
):
    Mailing.objects.filter(pk=mailing.pk).update(started_at=timezone.now())
    client.force_login(StaffFactory())
    page = client.get(reverse("campaigns:mailing_sending", args=[mailing.pk])).text
    assert 'data-status="sending"' in page
    assert '<div class="sending-controls" data-hide-when-finished>' in page
    assert '<span id="finished-at" hidden>' in page
