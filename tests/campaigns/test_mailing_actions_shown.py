"""The buttons that approve, pause, resume, cancel and re-send a mailing are on its pages exactly
when campaigns.access allows the action, for every role and every status, and posting an action
the rule refuses changes nothing.

Roles: national staff, the representative of the mailing's region, a representative of another
region, and a councillor. Each status is tried on a region's mailing and on a national one (staff
may approve either while it is being drafted). Approve is on the mailing's page; pause, resume,
cancel and re-send on its sending page, and cancel on the mailing's page too until sending has
begun. Every mailing has a failed address, so that Try again has something to retry whenever the
rule allows it."""

import datetime
from types import SimpleNamespace

import pytest
from django.urls import reverse
from django.utils import timezone
from factories import (
    CouncilFactory,
    CouncillorFactory,
    MailingFactory,
    RegionFactory,
    RepresentativeFactory,
    StaffFactory,
)

from campaigns.access import (
    may_approve_mailing,
    may_cancel_mailing,
    may_pause_mailing,
    may_resend_mailing,
    may_resume_mailing,
)
from campaigns.models import Delivery, Mailing

pytestmark = pytest.mark.django_db

ROLES = ["staff", "rep_own", "rep_other", "councillor"]
STATUSES = [status.value for status in Mailing.Status]
KINDS = ["regional", "national"]
RULES = {
    "mailing_approve": may_approve_mailing,
    "mailing_pause": may_pause_mailing,
    "mailing_resume": may_resume_mailing,
    "mailing_cancel": may_cancel_mailing,
    "mailing_resend_failed": may_resend_mailing,
}
POSTED = {"mailing_resend_failed": {"kind": "all"}}
BEGAN = {
    Mailing.Status.SENDING,
    Mailing.Status.PAUSED,
    Mailing.Status.SENT,
    Mailing.Status.CANCELLED,
}


@pytest.fixture
def world():
    own = RegionFactory(name="Own Region")
    other = RegionFactory(name="Other Region")
    return {
        "own": own,
        "users": {
            "staff": StaffFactory(),
            "rep_own": RepresentativeFactory(region=own).user,
            "rep_other": RepresentativeFactory(region=other).user,
            "councillor": CouncillorFactory(council=CouncilFactory(region=own)).user,
        },
    }


def mailing_in(world, kind, status):
    """A mailing in `status`: approved once it could have been scheduled or sent, started when
    sending could have begun, with one address sent, one failed and one waiting."""
    region = world["own"]
    mailing = MailingFactory(owner_region=region if kind == "regional" else None, regions=[region])
    put_in(mailing, status, approver=world["users"]["staff"])
    return mailing


def put_in(mailing, status, *, approver):
    drafting = status in (Mailing.Status.DRAFT, Mailing.Status.AWAITING_APPROVAL)
    Mailing.objects.filter(pk=mailing.pk).update(
        status=status,
        approved_by=None if drafting or not mailing.owner_region_id else approver,
        started_at=timezone.now() if status in BEGAN else None,
        finished_at=timezone.now()
        if status in (Mailing.Status.SENT, Mailing.Status.CANCELLED)
        else None,
        scheduled_for=(
            datetime.datetime(2040, 1, 1, tzinfo=datetime.UTC)
            if status == Mailing.Status.SCHEDULED
            else None
        ),
    )
    Delivery.objects.filter(mailing=mailing).delete()
    Delivery.objects.bulk_create(
        [
            Delivery(mailing=mailing, email="sent@example.org", status="sent", attempts=1),
            Delivery(mailing=mailing, email="failed@example.org", status="failed", attempts=5,
                     last_error="550 No such user"),
            Delivery(mailing=mailing, email="waiting@example.org"),
        ]
    )  # fmt: skip
    mailing.refresh_from_db()


def state(mailing):
    """Everything an action could change."""
    row = Mailing.objects.filter(pk=mailing.pk).values(
        "status", "approved_by", "scheduled_for", "finished_at"
    )
    deliveries = Delivery.objects.filter(mailing=mailing).order_by("email")
    return (
        list(row),
        mailing.history.count(),
        list(deliveries.values_list("email", "status", "attempts")),
    )


def action_url(name, mailing):
    return reverse(f"campaigns:{name}", args=[mailing.pk])


def shown(page, name, mailing) -> bool:
    return f'action="{action_url(name, mailing)}"' in page


@pytest.fixture(
    params=[(role, status, kind) for role in ROLES for status in STATUSES for kind in KINDS],
    ids="-".join,
)
def case(request, client, world):
    """One role looking at one mailing in one status, logged in with `client`."""
    role, status, kind = request.param
    user = world["users"][role]
    client.force_login(user)
    visible = role == "staff" or (role == "rep_own" and kind == "regional")
    mailing = mailing_in(world, kind, status)
    return SimpleNamespace(user=user, mailing=mailing, status=status, visible=visible)


def test_each_button_is_shown_exactly_when_its_rule_allows_it(client, case):
    user, mailing = case.user, case.mailing
    detail = client.get(mailing.get_absolute_url())
    sending = client.get(action_url("mailing_sending", mailing))
    assert (detail.status_code, sending.status_code) == ((200, 200) if case.visible else (404, 404))
    pages = detail.text + sending.text
    for name, rule in RULES.items():
        assert shown(pages, name, mailing) == rule(user, mailing), name
    # The mailing's own page offers to cancel only what has not begun sending; the sending page
    # offers it whenever the rule allows.
    cancel = may_cancel_mailing(user, mailing)
    assert shown(detail.text, "mailing_cancel", mailing) == (cancel and case.status not in BEGAN)
    assert shown(sending.text, "mailing_cancel", mailing) == cancel


def test_an_action_is_done_exactly_when_its_rule_allows_it(client, world, case):
    user, mailing = case.user, case.mailing
    for name, rule in RULES.items():
        put_in(mailing, case.status, approver=world["users"]["staff"])
        allowed = rule(user, mailing)
        before = state(mailing)
        response = client.post(action_url(name, mailing), POSTED.get(name, {}))
        if allowed:
            assert response.status_code == 302, name
            assert state(mailing) != before, f"{name} was allowed but did nothing"
        else:
            assert response.status_code in (302, 403, 404), name
            assert state(mailing) == before, f"{name} was refused but acted"


def test_staff_are_offered_the_approval_of_a_national_draft(client, world):
    """Approving a national draft (which needs no approval, but may have one) is for staff as
    for a region's draft: the page offers what the service allows."""
    staff = world["users"]["staff"]
    mailing = mailing_in(world, "national", Mailing.Status.DRAFT)
    client.force_login(staff)
    page = client.get(mailing.get_absolute_url()).text
    assert shown(page, "mailing_approve", mailing)
    client.post(action_url("mailing_approve", mailing))
    mailing.refresh_from_db()
    assert (mailing.status, mailing.approved_by) == (Mailing.Status.DRAFT, staff)
