"""A mailing is marked sent as soon as its last message is recorded, with the settings `make run`
uses (two sending tasks at once, a claim timeout of a minute), not a quarter-minute later."""

import os
import subprocess
import sys
import uuid

import pytest
from django.db.models import Max
from factories import CouncilFactory, CouncilGroupFactory, MailingFactory, RegionFactory
from polling import wait_for
from workers import PROJECT_DIR, current_database_url

from campaigns.models import Delivery, Mailing
from campaigns.services import lifecycle

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# The defaults in alc_portal/settings.py, which `make run` uses.
RUN_SETTINGS = {
    "MAILING_CLAIM_TIMEOUT": "60",
    "MAILING_TASK_SECONDS": "30",
    "MAILING_SWEEP_SECONDS": "30",
    "MAILING_RETRY_BASE_SECONDS": "30",
    "MAILING_RETRY_MAX_SECONDS": "3600",
    "EMAIL_TIMEOUT": "20",
}
# Finished by the task that records its last message, as it should be, a mailing is marked sent
# a few queries later: milliseconds, a second or two on a very busy machine. Otherwise only a
# later look finishes it: the other task's, which found rows still claimed and comes back a
# quarter of MAILING_CLAIM_TIMEOUT later (15 s after it looked, so nearly 15 s after the last
# message), or the sweep's (every 30 s, and not running here). Half the quarter-minute tells the
# two apart with room to spare either way, where a bound of one second could fail on a busy
# machine.
PROMPT_SECONDS = float(RUN_SETTINGS["MAILING_CLAIM_TIMEOUT"]) / 4 / 2


def _two_address_mailing():
    region = RegionFactory(name=f"Region {uuid.uuid4().hex[:8]}")
    domain = f"{uuid.uuid4().hex[:8]}.example.org"
    for n in range(2):
        CouncilGroupFactory(council=CouncilFactory(region=region), contact_email=f"g{n}@{domain}")
    return MailingFactory(recipients=["contact"], regions=[region])


def _prefork_worker(senders, tmp_path):
    """A worker as `make run` starts it: prefork, two processes."""
    env = {**os.environ, **senders.env, **RUN_SETTINGS, "DATABASE_URL": current_database_url()}
    log = open(tmp_path / "worker.log", "w")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "alc_portal", "worker", "-l", "info",
         "--concurrency", "2", "--without-gossip", "--without-mingle"],
        cwd=PROJECT_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    proc.log = log
    senders.procs.append(proc)
    return proc


def test_mailing_is_marked_sent_when_its_last_message_is_recorded(senders, settings, tmp_path):
    settings.MAILING_PARALLEL_TASKS = 2
    _prefork_worker(senders, tmp_path)
    for attempt in range(3):
        mailing = _two_address_mailing()
        assert lifecycle.mailing_start(mailing_id=mailing.pk)
        wait_for(
            lambda m=mailing: Mailing.objects.get(pk=m.pk).status == Mailing.Status.SENT,
            # The first waits for the worker to start as well.
            timeout=120,
        )
        mailing.refresh_from_db()
        deliveries = Delivery.objects.filter(mailing=mailing)
        assert sorted(deliveries.values_list("status", flat=True)) == ["sent", "sent"]
        last_sent = deliveries.aggregate(last=Max("sent_at"))["last"]
        lag = (mailing.finished_at - last_sent).total_seconds()
        assert lag < PROMPT_SECONDS, (
            f"attempt {attempt}: marked sent {lag:.1f} s after its last message"
        )
