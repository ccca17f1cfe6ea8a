"""MAILING_RATE_LIMIT holds for the whole sending system: every worker and every mailing
together. A mailing's own rate_limit can only lower it."""

import collections
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from factories import MailingFactory
from polling import wait_for

from campaigns import ratelimit
from campaigns.models import RATE_LIMIT_MAX, Delivery, Mailing
from campaigns.services import sending

LIMIT = 20


@pytest.fixture
def fresh_rate_keys():
    """No slots reserved by an earlier test."""
    client = ratelimit.redis_client()
    keys = [ratelimit.SYSTEM_KEY, *client.scan_iter("mailing:*:rate")]
    client.delete(*keys)


def _slot_times(reservations, *, backlog=0.0):
    """Reserve each (mailing_id, mailing_rate) slot in turn; return when each may be sent.

    The times are Redis's, which sets them: after each reservation the system limit's key holds
    the slot's time plus one interval. (Reading a clock here, once each call has returned, would
    add to every gap the jitter of a busy machine.) With a `backlog`, the system's slots are
    already taken for that many seconds, so that every slot follows from those before it, not
    from when its call happened to reach Redis.
    """
    client = ratelimit.redis_client()
    interval = ratelimit.SAFETY / ratelimit.effective_rate(None)  # the system limit's
    if backlog:
        seconds, microseconds = client.time()
        client.set(ratelimit.SYSTEM_KEY, seconds + microseconds / 1e6 + backlog)
    times = []
    for mailing_id, mailing_rate in reservations:
        ok, _wait = ratelimit.rate_slot(
            mailing_id=mailing_id, mailing_rate=mailing_rate, max_wait=60
        )
        assert ok
        times.append((mailing_id, float(client.get(ratelimit.SYSTEM_KEY)) - interval))
    return times


def test_two_mailings_share_the_system_limit(settings, fresh_rate_keys):
    settings.MAILING_RATE_LIMIT = LIMIT
    times = [t for _, t in _slot_times([(1, None), (2, None)] * 10)]
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    # Two mailings at once get one limit between them, not one each.
    assert min(gaps) >= 0.95 / LIMIT
    assert (times[-1] - times[0]) >= 19 * 0.95 / LIMIT


def test_a_mailings_own_lower_limit_slows_only_that_mailing(settings, fresh_rate_keys):
    settings.MAILING_RATE_LIMIT = 50
    times = _slot_times([(1, 5.0), (2, None)] * 5, backlog=10)
    slow = [t for mailing_id, t in times if mailing_id == 1]
    fast = [t for mailing_id, t in times if mailing_id == 2]
    assert min(b - a for a, b in zip(slow, slow[1:], strict=False)) >= 0.95 / 5
    # The other mailing goes at the system's pace, one slot after each of the slow one's.
    assert all(f - s < 0.1 for s, f in zip(slow, fast, strict=False))


def test_no_limit_at_all_reserves_nothing(settings, fresh_rate_keys):
    settings.MAILING_RATE_LIMIT = 0
    assert ratelimit.rate_slot(mailing_id=1, mailing_rate=None, max_wait=1) == (True, 0.0)
    assert not ratelimit.redis_client().exists(ratelimit.SYSTEM_KEY)


@pytest.mark.django_db
@pytest.mark.parametrize("rate", [0, -5, float("nan"), 10_000.5, 1e308, float("inf")])
def test_a_mailings_rate_limit_must_be_positive_and_at_most_the_maximum(rate):
    mailing = MailingFactory.build(rate_limit=rate)
    with pytest.raises(ValidationError) as error:
        mailing.full_clean(exclude=["created_by"])
    assert "rate_limit" in error.value.message_dict


@pytest.mark.django_db
def test_the_maximum_rate_limit_itself_is_allowed():
    MailingFactory.build(rate_limit=RATE_LIMIT_MAX).full_clean(exclude=["created_by"])
    mailing = MailingFactory()
    Mailing.objects.filter(pk=mailing.pk).update(rate_limit=RATE_LIMIT_MAX)
    assert Mailing.objects.get(pk=mailing.pk).rate_limit == RATE_LIMIT_MAX


@pytest.mark.django_db
@pytest.mark.parametrize("rate", [0, 10_001, 1e308, float("inf"), float("nan")])
def test_the_database_refuses_a_rate_limit_out_of_range(rate):
    mailing = MailingFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Mailing.objects.filter(pk=mailing.pk).update(rate_limit=rate)
    assert Mailing.objects.get(pk=mailing.pk).rate_limit is None


@pytest.mark.parametrize("system", [0, 20, 1e308, float("inf"), float("nan")])
@pytest.mark.parametrize("rate", [None, 0.001, 0.5, 20, RATE_LIMIT_MAX, 1e308, float("inf")])
def test_batch_size_is_always_a_sensible_whole_number(settings, system, rate):
    # Rows saved before the maximum existed, or a portal setting, may hold any float.
    settings.MAILING_RATE_LIMIT = system
    size = sending.mailing_batch_size(MailingFactory.build(rate_limit=rate))
    assert isinstance(size, int)
    assert 1 <= size <= settings.MAILING_BATCH_SIZE
    effective = ratelimit.effective_rate(rate)
    assert effective is None or 0 < effective <= RATE_LIMIT_MAX


def test_a_huge_rate_reserves_a_slot_without_waiting(settings, fresh_rate_keys):
    settings.MAILING_RATE_LIMIT = 0
    assert ratelimit.rate_slot(mailing_id=1, mailing_rate=1e308, max_wait=1)[0] is True
    assert ratelimit.rate_slot(mailing_id=1, mailing_rate=float("inf"), max_wait=1)[0] is True


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_rate_limit_holds_across_two_workers_and_two_mailings(
    senders, deliveries_create, sending_begin, fresh_rate_keys, report_figure
):
    smtp = senders.smtp
    arrivals = []
    original = smtp._received

    def timed(mail_from, rcpt_tos, envelope):
        arrivals.append((time.monotonic(), rcpt_tos[0].rsplit("@", 1)[1]))
        original(mail_from, rcpt_tos, envelope)

    smtp._received = timed
    first, second = MailingFactory(), MailingFactory()
    deliveries_create(first, 60, domain="first.example.org")
    deliveries_create(second, 60, domain="second.example.org")
    workers = [senders.start(MAILING_RATE_LIMIT=LIMIT) for _ in range(2)]
    sending_begin(first)
    sending_begin(second)
    wait_for(lambda: len(arrivals) >= 80, timeout=30)
    measured = sorted(arrivals)[:80]
    times = [t for t, _ in measured]
    rate = (len(times) - 1) / (times[-1] - times[0])
    report_figure(f"rate limit {LIMIT}/s over two mailings and two workers: {rate:.2f}/s measured")
    assert rate <= LIMIT
    assert rate > LIMIT * 0.7  # and it does send, not merely slowly
    # Both mailings were going at once, within the one limit.
    by_mailing = collections.Counter(domain for _, domain in measured)
    assert by_mailing["first.example.org"] >= 20 and by_mailing["second.example.org"] >= 20
    # Nor is it a burst then a pause: no three-second stretch holds much more than its share
    # (a couple of messages' slack for the catcher's own scheduling on a busy machine).
    for index, start in enumerate(times):
        assert sum(1 for t in times[index:] if t < start + 3.0) <= 3 * LIMIT + 2
    # Both worker processes sent: each sent row names the worker (host:pid:task) that sent it.
    for mailing in (first, second):
        wait_for(
            lambda m=mailing: Mailing.objects.get(pk=m.pk).status == Mailing.Status.SENT,
            timeout=30,
        )
    senders_by_pid = collections.Counter(
        claimed_by.split(":")[1]
        for claimed_by in Delivery.objects.filter(status="sent").values_list(
            "claimed_by", flat=True
        )
    )
    report_figure(f"rate limit: messages sent per worker process {dict(senders_by_pid)}")
    assert set(senders_by_pid) == {str(worker.pid) for worker in workers}
