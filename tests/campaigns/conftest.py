"""Fixtures for the mailing pipeline: an SMTP server on loopback, and Celery worker (and beat)
processes of our own that send to it through their own queue, so no other worker in the test
session picks up a mailing's tasks."""

import os
import signal
import subprocess
import sys
import uuid

import pytest
from django.utils import timezone
from factories import StaffFactory
from workers import PROJECT_DIR, current_database_url, worker_start, worker_stop

from alc_portal.celery import app as celery_app
from alc_portal.mailcatcher import SmtpCatcher
from campaigns.models import Delivery, Mailing


@pytest.fixture
def staff(client):
    """A member of the national staff, logged in with `client`."""
    user = StaffFactory()
    client.force_login(user)
    return user


@pytest.fixture
def smtp(settings):
    """A real SMTP server; mail sent from this process goes to it."""
    catcher = SmtpCatcher().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = catcher.host
    settings.EMAIL_PORT = catcher.port
    settings.EMAIL_TIMEOUT = 5
    yield catcher
    catcher.stop()


class Senders:
    """Start and kill worker processes that send to one SMTP server, on a private queue."""

    def __init__(self, smtp, monkeypatch, tmp_path):
        self.smtp = smtp
        self.queue = f"mailing-test-{uuid.uuid4().hex[:8]}"
        self.procs = []
        self.tmp_path = tmp_path
        self.env = {
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": smtp.host,
            "EMAIL_PORT": str(smtp.port),
            "EMAIL_TIMEOUT": "2",
            "CELERY_TASK_DEFAULT_QUEUE": self.queue,
            "MAILING_CLAIM_TIMEOUT": "4",
            "MAILING_RETRY_BASE_SECONDS": "0.5",
            "MAILING_RETRY_MAX_SECONDS": "2",
            "MAILING_TASK_SECONDS": "5",
            "MAILING_SWEEP_SECONDS": "1",
        }
        self.monkeypatch = monkeypatch
        # Tasks queued from this process go to the same private queue.
        monkeypatch.setitem(celery_app.conf, "task_default_queue", self.queue)

    def start(self, **env):
        with self.monkeypatch.context() as patch:
            for name, value in {**self.env, **env}.items():
                patch.setenv(name, str(value))
            proc = worker_start(database_url=current_database_url(), name="sending")
        self.procs.append(proc)
        return proc

    def beat(self):
        """celery beat, running the settings' schedule (the sweep every second here) with the
        scheduler production uses: django_celery_beat's, which keeps it in the database."""
        env = {**os.environ, **self.env, "DATABASE_URL": current_database_url()}
        log = open(self.tmp_path / "beat.log", "w")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "alc_portal", "beat", "-l", "info",
             "--scheduler", "django_celery_beat.schedulers:DatabaseScheduler"],
            cwd=PROJECT_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        proc.log = log
        self.procs.append(proc)
        return proc

    def kill(self, proc):
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    def stop_all(self):
        for proc in self.procs:
            if proc.poll() is None:
                worker_stop(proc)
            if getattr(proc, "log", None):
                proc.log.close()


@pytest.fixture
def senders(smtp, monkeypatch, tmp_path, django_db_setup):
    pool = Senders(smtp, monkeypatch, tmp_path)
    yield pool
    pool.stop_all()


def deliveries_create(mailing, count, *, domain="example.org", start=0):
    """Pending deliveries straight into the ledger, as mailing_start would write them."""
    rows = [
        Delivery(
            mailing=mailing,
            email=f"person{n}@{domain}",
            context={
                "recipient": {"first_name": f"Person{n}", "full_name": f"Person{n} Example"},
                "group": {"name": f"Group {n % 7}"},
            },
        )
        for n in range(start, start + count)
    ]
    Delivery.objects.bulk_create(rows, batch_size=2000)


def sending_begin(mailing):
    """Mark a mailing with hand-made deliveries as sending and queue its tasks."""
    from campaigns.services.lifecycle import mailing_queue_senders

    Mailing.objects.filter(pk=mailing.pk).update(
        status=Mailing.Status.SENDING, started_at=timezone.now()
    )
    mailing_queue_senders(mailing.pk)


def received_addresses(smtp) -> list[str]:
    return [rcpt.lower() for message in list(smtp.messages) for rcpt in message.rcpt_tos]


@pytest.fixture(name="deliveries_create")
def _deliveries_create():
    return deliveries_create


@pytest.fixture(name="sending_begin")
def _sending_begin():
    return sending_begin


@pytest.fixture(name="received_addresses")
def _received_addresses():
    return received_addresses
