"""Join requests reach someone: the region's representatives (or national staff when it has
none) are emailed, and those who decide see how many requests wait for them."""

import datetime

import pytest
from django.urls import reverse
from factories import (
    CouncilFactory,
    CouncillorFactory,
    ErasureRequestFactory,
    LevyWaiverFactory,
    ProfileChangeFactory,
    RegionFactory,
    RepresentativeFactory,
    StaffFactory,
)
from polling import wait_for

from members.models import Decision, JoinRequest
from members.services import join_requests
from members.services.notices import notices_send_due

pytestmark = pytest.mark.django_db


@pytest.fixture
def council():
    return CouncilFactory(
        region=RegionFactory(name="Region X", slug="region-x"), name="Oakfield Borough Council"
    )


def join_data(**overrides):
    data = {
        "full_name": "Grace Hopper",
        "council": "Oakfield Borough Council",
        "ward": "Riverside",
        "email": "grace@example.org",
    }
    return {**data, **overrides}


def _request(council, **fields):
    data = {"full_name": "Grace Hopper", "email": "grace@example.org", "ward": "Riverside"}
    return JoinRequest.objects.create(council=council, **(data | fields))


def test_a_join_request_emails_the_current_representatives_of_its_region(council, mailoutbox):
    rep = RepresentativeFactory(region=council.region)
    second = RepresentativeFactory(region=council.region)
    RepresentativeFactory(
        region=council.region,
        start_date=datetime.date(2020, 1, 1),
        end_date=datetime.date(2024, 1, 1),
    )
    RepresentativeFactory()  # of another region
    StaffFactory()
    request = _request(council)

    assert join_requests.join_request_notices_queue(join_request=request) == 2
    request.refresh_from_db()
    assert request.notified_at is None
    assert notices_send_due() == 2

    assert sorted(m.to[0] for m in mailoutbox) == sorted([rep.user.email, second.user.email])
    assert all(len(m.to) == 1 for m in mailoutbox)
    body = mailoutbox[0].body
    assert "Grace Hopper" in body and "Oakfield Borough Council" in body
    assert "http://127.0.0.1:8000/join-requests/" in body
    request.refresh_from_db()
    assert request.notified_at is not None


def test_a_join_request_in_a_region_without_a_representative_goes_to_national_staff(
    council, mailoutbox
):
    staff = [StaffFactory(), StaffFactory()]
    RepresentativeFactory()  # of another region
    request = _request(council)

    assert join_requests.join_request_notices_queue(join_request=request) == 2
    notices_send_due()

    assert sorted(m.to[0] for m in mailoutbox) == sorted(s.email for s in staff)
    assert "Region X has no regional representative at present" in mailoutbox[0].body


def test_the_notice_is_sent_once(council, mailoutbox):
    RepresentativeFactory(region=council.region)
    request = _request(council)
    join_requests.join_request_notices_queue(join_request=request)
    assert join_requests.join_request_notices_queue(join_request=request) == 0
    assert (notices_send_due(), notices_send_due()) == (1, 0)
    assert len(mailoutbox) == 1


def test_a_name_with_markup_is_escaped_in_the_html_notice(council, mailoutbox):
    RepresentativeFactory(region=council.region)
    request = _request(council, full_name="<script>alert(1)</script>")
    join_requests.join_request_notices_queue(join_request=request)
    notices_send_due()
    html = mailoutbox[0].alternatives[0][0]
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_submitting_the_form_queues_the_notice_after_commit(
    client, council, django_capture_on_commit_callbacks
):
    RepresentativeFactory(region=council.region)
    with django_capture_on_commit_callbacks() as callbacks:
        client.post(reverse("join"), join_data())
    assert len(callbacks) == 1
    # A double submission returns the waiting request and tells nobody again.
    with django_capture_on_commit_callbacks() as callbacks:
        client.post(reverse("join"), join_data())
    assert callbacks == []


@pytest.mark.django_db(transaction=True)
def test_a_submitted_request_reaches_the_representative_through_the_worker(
    client, celery_worker, worker_smtp
):
    council = CouncilFactory(name="Oakfield Borough Council", short_name="Oakfield")
    rep = RepresentativeFactory(region=council.region)

    client.post(reverse("join"), join_data())

    def notice():
        return [m for m in worker_smtp.messages if m.rcpt_tos == [rep.user.email]]

    [message] = wait_for(notice, timeout=60)
    assert "Oakfield Borough Council" in message["Subject"]
    wait_for(lambda: JoinRequest.objects.get().notified_at is not None)


# Counts for those who decide


def test_a_representative_sees_their_regions_pending_requests_on_home_and_in_the_nav(
    client, council
):
    rep = RepresentativeFactory(region=council.region)
    _request(council)
    _request(council, email="ada@example.org")
    _request(council, email="old@example.org", status=Decision.REFUSED)
    _request(CouncilFactory(), email="elsewhere@example.org")  # another region
    ProfileChangeFactory(council=council)
    ProfileChangeFactory()  # a move into another region
    LevyWaiverFactory()
    client.force_login(rep.user)

    page = client.get(reverse("home"))

    pending = page.context["pending"]
    assert (pending.join_requests, pending.profile_changes) == (2, 1)
    assert (pending.waivers, pending.erasures) == (None, None)
    assert '<strong class="task-count">2</strong> join requests wait' in page.text
    assert "levy waiver" not in page.text
    # The menu's Decisions counts the join requests with the changes.
    assert 'Decisions <span class="nav-count">(3' in page.text


def test_staff_see_every_pending_request_with_waivers_and_erasures(client, council):
    _request(council)
    _request(CouncilFactory(), email="elsewhere@example.org")
    ProfileChangeFactory()
    LevyWaiverFactory()
    LevyWaiverFactory(status=Decision.APPROVED, year=2025)
    ErasureRequestFactory()
    staff = StaffFactory()
    client.force_login(staff)

    page = client.get(reverse("home"))

    pending = page.context["pending"]
    assert (pending.join_requests, pending.profile_changes) == (2, 1)
    assert (pending.waivers, pending.erasures) == (1, 1)
    assert '<strong class="task-count">1</strong> erasure request waits' in page.text
    assert 'Decisions <span class="nav-count">(5' in page.text


def test_a_councillor_sees_no_counts(client, council):
    _request(council)
    client.force_login(CouncillorFactory(council=council).user)
    page = client.get(reverse("home"))
    assert page.context["pending"] is None
    assert "Waiting for your decision" not in page.text
    assert "nav-count" not in page.text


def test_nothing_waiting_shows_no_count_in_the_nav(client, council):
    rep = RepresentativeFactory(region=council.region)
    client.force_login(rep.user)
    page = client.get(reverse("home"))
    assert "No join requests wait." in page.text
    assert "nav-count" not in page.text


@pytest.mark.parametrize("rows", [20, 2000])
def test_staff_home_with_counts_makes_a_fixed_number_of_queries(
    client, council, django_assert_max_num_queries, rows
):
    JoinRequest.objects.bulk_create(
        JoinRequest(full_name=f"P {n}", email=f"p{n}@example.org", council=council, ward="W")
        for n in range(rows)
    )
    client.force_login(StaffFactory())
    with django_assert_max_num_queries(20):
        page = client.get(reverse("home"))
    assert page.context["pending"].join_requests == rows


def test_staff_list_labels_requests_from_a_region_without_a_representative(client, council):
    covered = CouncilFactory(region=RegionFactory(name="Region Y"))
    RepresentativeFactory(region=covered.region)
    # An ended appointment leaves its region without a representative.
    RepresentativeFactory(
        region=council.region,
        start_date=datetime.date(2020, 1, 1),
        end_date=datetime.date(2024, 1, 1),
    )
    _request(council)
    _request(covered, email="ada@example.org", full_name="Ada Lovelace")
    client.force_login(StaffFactory())

    page = client.get(reverse("join_requests"))

    assert page.text.count("No representative for") == 1
    assert "No representative for Region X" in page.text
