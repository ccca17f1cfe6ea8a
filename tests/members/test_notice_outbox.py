"""The outbox: every notice about a person's business is a row, sent once, whatever happens to
Redis or to the worker sending it.

Each kind of notice is made by the request that causes it; then Redis is flushed (as an
embedded Redis is on every restart, and a real one can be), losing the Celery task that was to
send it and anything in the cache; then beat's sweep runs, as it would a minute later. Each
notice goes exactly once."""

import os
import signal
import threading
import time
import uuid

import pytest
import redis
from django.conf import settings
from factories import (
    CouncilFactory,
    CouncillorFactory,
    LevyWaiverFactory,
    MailingFactory,
    ProfileChangeFactory,
    RegionFactory,
    RepresentativeFactory,
    StaffFactory,
    UserFactory,
)
from polling import wait_for
from workers import notice_workers_on_own_queue, worker_stop

from alc_portal.celery import app as celery_app
from alc_portal.mailcatcher import SmtpCatcher
from campaigns.services import notifications
from members import tasks
from members.models import CouncillorImport, JoinRequest, Notice
from members.services import (
    councillor_imports,
    invitations,
    join_requests,
    profile_changes,
    representatives,
    waivers,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def smtp(settings):
    catcher = SmtpCatcher().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = catcher.host, catcher.port
    yield catcher
    catcher.stop()


def _flush_redis():
    """Everything Redis holds goes (queued tasks, the cache, counters), except the queue
    bindings of the worker processes other tests share, which a restarted worker would
    declare again."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    doomed = [key for key in client.scan_iter(count=1000) if not key.startswith(b"_kombu.binding.")]
    if doomed:
        client.delete(*doomed)
    client.close()


def _rep(region):
    return RepresentativeFactory(region=region, user__email=f"rep-{uuid.uuid4().hex[:6]}@x.org")


# Each kind of notice: make the request that causes it; return who should be told.


def _join_request():
    council = CouncilFactory()
    rep = _rep(council.region)
    join_requests.join_request_submit(
        full_name="Grace Hopper", email="grace@example.org", council=council, ward="W"
    )
    return [rep.user.email]


def _existing_account():
    CouncilFactory()
    UserFactory(email="taken@example.org")
    join_requests.join_request_submit(
        full_name="Someone", email="taken@example.org", council=CouncilFactory(), ward="W"
    )
    return ["taken@example.org"]


def _invitation():
    council = CouncilFactory()
    request = JoinRequest.objects.create(
        full_name="Ada", email="ada@example.org", council=council, ward="W"
    )
    join_requests.join_request_approve(join_request=request, by=_rep(council.region).user)
    return ["ada@example.org"]


def _change_requested():
    change = ProfileChangeFactory()
    rep = _rep(change.council.region)
    profile_changes.profile_change_request_notices_queue(change=change)
    return [rep.user.email]


def _change_decided():
    change = ProfileChangeFactory(councillor__user__email="mover@example.org")
    profile_changes.profile_change_decide(change=change, by=StaffFactory(), approve=True)
    return ["mover@example.org"]


def _waiver_applied():
    staff = StaffFactory()
    councillor = CouncillorFactory()
    waivers.levy_waiver_apply(councillor=councillor, year=2027, circumstances="Low income")
    return [staff.email]


def _waiver_decided():
    waiver = LevyWaiverFactory(councillor__user__email="applicant@example.org")
    waivers.levy_waiver_decide(waiver=waiver, by=StaffFactory(), approve=True)
    return ["applicant@example.org"]


def _appointed():
    person = UserFactory(email="newrep@example.org")
    representatives.representative_appoint(user=person, region=RegionFactory())
    return ["newrep@example.org"]


def _removed():
    appointment = RepresentativeFactory(user__email="oldrep@example.org")
    representatives.representative_remove(representative=appointment)
    return ["oldrep@example.org"]


def _import_result():
    region = RegionFactory()
    uploader = UserFactory(email="uploader@example.org")
    imp = CouncillorImport.objects.create(
        region=region,
        uploaded_by=uploader,
        filename="big.csv",
        content="",
        status=CouncillorImport.Status.DONE,
        report={"counts": {"create": 1200}},
    )
    councillor_imports.import_result_notice_queue(councillor_import=imp)
    return ["uploader@example.org"]


def _mailing_submitted():
    staff = StaffFactory()
    region = RegionFactory()
    mailing = MailingFactory(owner_region=region, created_by=_rep(region).user)
    notifications.mailing_notices_queue(mailing=mailing, event=notifications.SUBMITTED)
    return [staff.email]


def _mailing_approved():
    region = RegionFactory()
    rep = _rep(region)
    mailing = MailingFactory(owner_region=region, created_by=rep.user)
    notifications.mailing_notices_queue(mailing=mailing, event=notifications.APPROVED)
    return [rep.user.email]


KINDS = {
    "join request waiting": _join_request,
    "address already has an account": _existing_account,
    "invitation": _invitation,
    "change requested": _change_requested,
    "change decided": _change_decided,
    "waiver applied for": _waiver_applied,
    "waiver decided": _waiver_decided,
    "appointed representative": _appointed,
    "representative removed": _removed,
    "import finished": _import_result,
    "mailing submitted for approval": _mailing_submitted,
    "mailing approved": _mailing_approved,
}


@pytest.mark.parametrize("kind", KINDS)
def test_each_notice_is_sent_exactly_once_though_redis_is_flushed(
    smtp, django_capture_on_commit_callbacks, kind
):
    with django_capture_on_commit_callbacks(execute=True):
        expected = KINDS[kind]()
    assert Notice.objects.filter(status=Notice.Status.QUEUED).exists()
    _flush_redis()  # the task that was to send it, gone
    tasks.notices_sweep()  # beat's round, a minute later
    _flush_redis()
    tasks.notices_sweep()
    tasks.notices_send()
    received = sorted(address for message in smtp.messages for address in message.rcpt_tos)
    assert received == sorted(expected)
    assert not Notice.objects.exclude(status=Notice.Status.SENT).exists()


def test_a_notice_asked_for_again_after_a_flush_is_not_queued_again(smtp):
    council = CouncilFactory()
    _rep(council.region)
    request = join_requests.join_request_submit(
        full_name="Grace Hopper", email="grace@example.org", council=council, ward="W"
    )
    tasks.notices_send()
    _flush_redis()
    assert join_requests.join_request_notices_queue(join_request=request) == 0
    tasks.notices_sweep()
    assert len(smtp.messages) == 1


def test_a_temporary_refusal_is_tried_again_and_a_permanent_one_fails(smtp, settings):
    settings.NOTICE_RETRY_BASE_SECONDS = 0
    council = CouncilFactory()
    rep = _rep(council.region)
    invitee = CouncillorFactory(council=council, user__email="bounce@example.org")
    smtp.reply_error = "451 4.3.0 Try again later"
    invitations.invitation_record_and_queue(
        councillor=invitee, user=invitee.user, by=rep.user, reason="Invited."
    )
    assert tasks.notices_send() == 0
    notice = Notice.objects.get()
    assert (notice.status, notice.attempts) == (Notice.Status.QUEUED, 1)
    assert "451" in notice.last_error
    smtp.reply_error = "550 5.1.1 No such user"
    assert tasks.notices_send() == 0
    notice.refresh_from_db()
    assert (notice.status, notice.attempts) == (Notice.Status.FAILED, 2)
    smtp.reply_error = None
    assert tasks.notices_send() == 0


# A worker killed while sending.

NOTICES = 40


@pytest.fixture
def slow_smtp(smtp):
    """The SMTP server takes a while over each message, so that a kill lands mid-batch."""
    original = smtp._received

    def received(*args):
        time.sleep(0.05)
        original(*args)

    smtp._received = received
    return smtp


@pytest.fixture
def notice_workers(slow_smtp, monkeypatch):
    """Start workers of our own, on a queue of their own, sending to the slow server."""
    with notice_workers_on_own_queue(slow_smtp, monkeypatch, queue_prefix="notices-test") as start:
        yield start


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_while_sending_loses_none_and_repeats_at_most_one(
    slow_smtp, notice_workers, report_figure
):
    council = CouncilFactory()
    rep = _rep(council.region).user
    people = [
        CouncillorFactory(council=council, user__email=f"person{n}@example.org")
        for n in range(NOTICES)
    ]
    first = notice_workers("notices-first")
    for person in people:
        invitations.invitation_record_and_queue(
            councillor=person, user=person.user, by=rep, reason="Invited."
        )
    wait_for(lambda: len(slow_smtp.messages) >= 5, timeout=60)
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    received_at_kill = len(slow_smtp.messages)
    assert received_at_kill < NOTICES, "the worker finished before it could be killed"

    second = notice_workers("notices-second")
    stop = threading.Event()

    def beat():
        while not stop.wait(1):
            celery_app.send_task("members.tasks.notices_sweep")

    ticker = threading.Thread(target=beat, daemon=True)
    ticker.start()
    try:
        wait_for(
            lambda: Notice.objects.filter(status=Notice.Status.SENT).count() == NOTICES,
            timeout=120,
        )
    finally:
        stop.set()
        ticker.join()
    # Once the worker has stopped and the server has closed, nothing more can arrive: a late
    # repeat would be counted below.
    worker_stop(second)
    slow_smtp.stop()
    addresses = [m.rcpt_tos[0] for m in slow_smtp.messages]
    assert set(addresses) == {p.user.email for p in people}
    duplicates = len(addresses) - len(set(addresses))
    assert duplicates <= 1
    report_figure(
        f"notices: {NOTICES} invitations, worker killed after {received_at_kill} received, "
        f"{duplicates} sent twice"
    )
