import pytest
from factories import MailingFactory
from polling import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

LIMIT = 20


def test_rate_limit_holds_across_two_workers(senders, deliveries_create, sending_begin):
    smtp = senders.smtp
    arrivals = []
    original = smtp._received

    def timed(*args):
        import time

        arrivals.append(time.monotonic())
        original(*args)

    smtp._received = timed
    mailing = MailingFactory(rate_limit=LIMIT)
    deliveries_create(mailing, 100)
    senders.start()
    senders.start()
    sending_begin(mailing)
    wait_for(lambda: len(arrivals) >= 80, timeout=30)
    times = sorted(arrivals)
    rate = (len(times) - 1) / (times[-1] - times[0])
    print(f"\nrate limit {LIMIT}/s: measured {rate:.2f}/s over {len(times)} messages")
    assert rate <= LIMIT
    assert rate > LIMIT * 0.7  # and it does send, not merely slowly
    # Nor is it a burst then a pause: no three-second stretch holds much more than its share
    # (a couple of messages' slack for the catcher's own scheduling on a busy machine).
    for index, start in enumerate(times):
        assert sum(1 for t in times[index:] if t < start + 3.0) <= 3 * LIMIT + 2
