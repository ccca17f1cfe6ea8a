"""People are told of requests and decisions by email: a council or ward change reaches the
representatives who decide it (or the national office), a levy waiver application reaches the
national office, each decision reaches the councillor, and a new regional representative learns
which region is theirs and that they must set up two-factor authentication."""

import datetime

import pytest
from django.urls import reverse
from factories import (
    CouncilFactory,
    CouncillorFactory,
    LevyWaiverFactory,
    ProfileChangeFactory,
    RegionFactory,
    RepresentativeFactory,
    StaffFactory,
    UserFactory,
    profile_form_data,
)
from polling import wait_for

from members.models import LevyWaiver, Notice, ProfileChange
from members.services import profile_changes, representatives, waivers
from members.services.notices import notices_send_due

pytestmark = pytest.mark.django_db


@pytest.fixture
def move():
    """A councillor in Northshire asking to move to a council in Southshire."""
    north = RegionFactory(name="Northshire")
    south = RegionFactory(name="Southshire")
    councillor = CouncillorFactory(
        council=CouncilFactory(region=north, name="Northtown Borough Council"),
        ward="Castle",
        user__full_name="Ada Lovelace",
    )
    to = CouncilFactory(region=south, name="Southport District Council")
    change = ProfileChangeFactory(councillor=councillor, council=to, ward="Harbour")
    return {"north": north, "south": south, "councillor": councillor, "change": change}


def _send() -> int:
    """Send what the outbox holds, as a worker would."""
    return notices_send_due(worker="test")


def _recipients(mailoutbox) -> list[str]:
    assert all(len(message.to) == 1 for message in mailoutbox)
    return sorted(message.to[0] for message in mailoutbox)


def test_a_change_request_emails_the_representatives_of_both_regions(move, mailoutbox):
    south_rep = RepresentativeFactory(region=move["south"])
    north_rep = RepresentativeFactory(region=move["north"])
    RepresentativeFactory(
        region=move["south"],
        start_date=datetime.date(2020, 1, 1),
        end_date=datetime.date(2023, 1, 1),
    )
    RepresentativeFactory()  # of another region
    StaffFactory()

    queued = profile_changes.profile_change_request_notices_queue(change=move["change"])

    assert (queued, _send()) == (2, 2)
    assert _recipients(mailoutbox) == sorted([south_rep.user.email, north_rep.user.email])
    body = mailoutbox[0].body
    assert "Ada Lovelace" in body
    assert "Northtown Borough Council" in body and "Castle" in body
    assert "Southport District Council" in body and "Harbour" in body
    assert f"http://127.0.0.1:8000/decisions/changes/{move['change'].pk}/" in body


def test_a_move_within_one_region_emails_its_representatives_once(mailoutbox):
    region = RegionFactory(name="Midshire")
    rep = RepresentativeFactory(region=region)
    change = ProfileChangeFactory(
        councillor=CouncillorFactory(council=CouncilFactory(region=region)),
        council=CouncilFactory(region=region),
    )

    assert profile_changes.profile_change_request_notices_queue(change=change) == 1
    _send()
    assert _recipients(mailoutbox) == [rep.user.email]


def test_a_change_request_with_no_representative_goes_to_national_staff(move, mailoutbox):
    staff = [StaffFactory(), StaffFactory()]
    RepresentativeFactory()  # of another region
    UserFactory()

    assert profile_changes.profile_change_request_notices_queue(change=move["change"]) == 2

    _send()
    assert _recipients(mailoutbox) == sorted(person.email for person in staff)
    assert "for the national office to decide" in mailoutbox[0].body


def test_a_change_request_notice_goes_once_and_again_when_asked_anew(move, mailoutbox):
    RepresentativeFactory(region=move["south"])
    profile_changes.profile_change_request_notices_queue(change=move["change"])
    assert profile_changes.profile_change_request_notices_queue(change=move["change"]) == 0
    assert (_send(), _send()) == (1, 0)
    assert len(mailoutbox) == 1

    ProfileChange.objects.filter(pk=move["change"].pk).update(
        requested_at=datetime.datetime.now(datetime.UTC)
    )
    move["change"].refresh_from_db()
    assert profile_changes.profile_change_request_notices_queue(change=move["change"]) == 1
    assert _send() == 1


def test_asking_to_move_queues_the_notice_after_commit_and_not_again_unchanged(
    client, move, django_capture_on_commit_callbacks
):
    councillor = move["councillor"]
    RepresentativeFactory(region=move["south"])
    ProfileChange.objects.all().delete()
    client.force_login(councillor.user)
    form = profile_form_data(councillor, council=CouncilFactory(region=move["south"]).pk)

    with django_capture_on_commit_callbacks() as callbacks:
        client.post(reverse("profile_edit"), form)
    assert len(callbacks) == 1
    assert Notice.objects.filter(kind="change_requested").count() == 1
    # Saving the profile again with the same request tells nobody again.
    with django_capture_on_commit_callbacks() as callbacks:
        client.post(reverse("profile_edit"), form)
    assert callbacks == []
    assert Notice.objects.filter(kind="change_requested").count() == 1


def test_an_approved_change_emails_the_councillor(move, mailoutbox):
    rep = RepresentativeFactory(region=move["south"])
    profile_changes.profile_change_decide(change=move["change"], by=rep.user, approve=True)

    assert _send() == 1

    assert _recipients(mailoutbox) == [move["councillor"].user.email]
    assert "approved" in mailoutbox[0].subject
    assert "Southport District Council" in mailoutbox[0].body
    assert "Harbour" in mailoutbox[0].body


def test_a_refused_change_emails_the_councillor_the_reason(move, mailoutbox):
    rep = RepresentativeFactory(region=move["south"])
    profile_changes.profile_change_decide(
        change=move["change"], by=rep.user, approve=False, reason="That ward is not in Southport."
    )

    change = ProfileChange.objects.get(pk=move["change"].pk)
    assert not profile_changes.profile_change_decision_notice_queue(change=change)
    assert (_send(), _send()) == (1, 0)

    assert _recipients(mailoutbox) == [move["councillor"].user.email]
    assert "refused" in mailoutbox[0].subject
    assert "Reason given: That ward is not in Southport." in mailoutbox[0].body


def test_deciding_a_change_queues_the_councillor_notice(move, django_capture_on_commit_callbacks):
    rep = RepresentativeFactory(region=move["south"])
    with django_capture_on_commit_callbacks() as callbacks:
        profile_changes.profile_change_decide(change=move["change"], by=rep.user, approve=True)
    assert len(callbacks) == 1


def test_a_waiver_application_emails_national_staff_only(client, mailoutbox):
    staff = [StaffFactory(), StaffFactory()]
    region = RegionFactory()
    RepresentativeFactory(region=region)
    councillor = CouncillorFactory(council=CouncilFactory(region=region), user__full_name="Bo Li")
    waiver = LevyWaiverFactory(councillor=councillor, year=2025)

    assert waivers.levy_waiver_application_notices_queue(waiver=waiver) == 2
    _send()

    assert _recipients(mailoutbox) == sorted(person.email for person in staff)
    body = mailoutbox[0].body
    assert "Bo Li" in body and "2025" in body
    assert f"http://127.0.0.1:8000/decisions/waivers/{waiver.pk}/" in body
    # Their circumstances stay on the portal.
    assert waiver.circumstances not in body


def test_applying_for_a_waiver_queues_the_notice_after_commit(
    client, django_capture_on_commit_callbacks
):
    StaffFactory()
    councillor = CouncillorFactory()
    client.force_login(councillor.user)
    data = {"year": datetime.date.today().year, "circumstances": "Low income", "declaration": "on"}
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        client.post(reverse("levy_waiver"), data)
    assert len(callbacks) == 1
    assert LevyWaiver.objects.filter(councillor=councillor).exists()


def test_a_refused_waiver_emails_the_councillor_the_reason(mailoutbox):
    staff = StaffFactory()
    waiver = LevyWaiverFactory()
    waivers.levy_waiver_decide(
        waiver=waiver, by=staff, approve=False, reason="Income above the threshold."
    )

    assert _send() == 1

    assert _recipients(mailoutbox) == [waiver.councillor.user.email]
    assert "refused" in mailoutbox[0].subject
    assert "Reason given: Income above the threshold." in mailoutbox[0].body


def test_an_approved_waiver_emails_the_councillor(mailoutbox, django_capture_on_commit_callbacks):
    staff = StaffFactory()
    waiver = LevyWaiverFactory(year=2026)
    with django_capture_on_commit_callbacks() as callbacks:
        waivers.levy_waiver_decide(waiver=waiver, by=staff, approve=True)
    assert len(callbacks) == 1

    _send()

    assert _recipients(mailoutbox) == [waiver.councillor.user.email]
    assert "approved" in mailoutbox[0].subject
    assert "levy waiver for 2026 has been approved" in mailoutbox[0].body
    assert "Reason given" not in mailoutbox[0].body


def test_a_pending_waiver_sends_no_decision(mailoutbox):
    LevyWaiverFactory()
    assert _send() == 0
    assert mailoutbox == []


def test_a_new_representative_is_told_their_region_and_to_set_up_two_factor(
    mailoutbox, django_capture_on_commit_callbacks
):
    person = UserFactory(email="newrep@example.org")
    region = RegionFactory(name="Wales")
    with django_capture_on_commit_callbacks() as callbacks:
        appointment = representatives.representative_appoint(user=person, region=region)
    assert len(callbacks) == 1
    # Appointing them again changes nothing and tells them nothing.
    with django_capture_on_commit_callbacks() as callbacks:
        representatives.representative_appoint(user=person, region=region)
    assert callbacks == []

    assert appointment.pk
    assert (_send(), _send()) == (1, 0)

    assert _recipients(mailoutbox) == ["newrep@example.org"]
    message = mailoutbox[0]
    assert "Wales" in message.subject
    assert "regional representative for Wales" in message.body
    assert "two-factor authentication" in message.body
    assert "http://127.0.0.1:8000/" in message.body


@pytest.mark.django_db(transaction=True)
def test_staff_appointing_a_representative_emails_them_through_the_worker(
    staff_client, celery_worker, worker_smtp
):
    region = RegionFactory(name="Eastern")
    UserFactory(email="rhian@example.org")

    staff_client.post(
        reverse("representatives"), {"email": "rhian@example.org", "region": region.pk}
    )

    def notice():
        return [m for m in worker_smtp.messages if m.rcpt_tos == ["rhian@example.org"]]

    [message] = wait_for(notice, timeout=60)
    assert "Eastern" in message["Subject"]


@pytest.mark.django_db(transaction=True)
def test_a_refused_waiver_reaches_the_councillor_through_the_worker(
    client, celery_worker, worker_smtp
):
    staff = StaffFactory()
    waiver = LevyWaiverFactory(councillor__user__email="applicant@example.org")
    client.force_login(staff)

    client.post(
        reverse("decisions_waiver", args=[waiver.pk]),
        {"decision": "refused", "reason": "Income above the threshold."},
    )

    def notice():
        return [m for m in worker_smtp.messages if m.rcpt_tos == ["applicant@example.org"]]

    [message] = wait_for(notice, timeout=60)
    assert "refused" in message["Subject"]
    assert "Income above the threshold." in message.get_payload(0).get_payload(decode=True).decode()
