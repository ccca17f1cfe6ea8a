"""The status page and its JSON twin, against real worker and beat processes on a Redis of the
test's own: green while they run, red (saying why) once one is stopped."""

import os
import signal
import subprocess
import sys
import uuid

import pytest
from django.test import Client
from django.urls import reverse
from factories import CouncillorFactory, StaffFactory
from polling import wait_for
from workers import PROJECT_DIR, current_database_url, environment, worker_start, worker_stop

from alc_portal.celery import app as celery_app
from alc_portal.embedded import EmbeddedRedis

pytestmark = pytest.mark.django_db(transaction=True)

FAST = {
    "WORKER_HEARTBEAT_SECONDS": "0.5",
    "MAILING_SWEEP_SECONDS": "1",
    "MAILING_SCHEDULE_CHECK_SECONDS": "1",
    "NOTICE_SWEEP_SECONDS": "1",
}


@pytest.fixture
def own_redis(settings, tmp_path, monkeypatch):
    """A Redis for this test alone: its workers' heartbeats are the only ones the page sees."""
    server = EmbeddedRedis(tmp_path / "redis")
    server.start()
    shared, shared_caches = settings.REDIS_URL, settings.CACHES
    settings.REDIS_URL = server.url
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "LOCATION": server.url},
    }
    monkeypatch.setitem(celery_app.conf, "broker_url", server.url)
    settings.WORKER_STALE_SECONDS = 3
    settings.STATUS_JOB_GRACE_SECONDS = 3
    schedule = {name: dict(entry) for name, entry in settings.CELERY_BEAT_SCHEDULE.items()}
    for name, variable in [
        ("mailings-sweep", "MAILING_SWEEP_SECONDS"),
        ("mailings-start-scheduled", "MAILING_SCHEDULE_CHECK_SECONDS"),
        ("notices-sweep", "NOTICE_SWEEP_SECONDS"),
    ]:
        schedule[name]["schedule"] = float(FAST[variable])
    settings.CELERY_BEAT_SCHEDULE = schedule
    yield server
    # Back to the shared Redis before this one stops: other fixtures tidy up in it.
    settings.REDIS_URL, settings.CACHES = shared, shared_caches
    server.stop()


def _env(redis_url):
    return {**FAST, "REDIS_URL": redis_url, "CELERY_TASK_DEFAULT_QUEUE": f"q-{uuid.uuid4().hex}"}


def _start_worker(redis_url, name):
    with environment(_env(redis_url)):
        return worker_start(database_url=current_database_url(), redis_url=redis_url, name=name)


def _start_beat(redis_url, tmp_path, queue_env):
    env = {**os.environ, **queue_env, "DATABASE_URL": current_database_url()}
    log = open(tmp_path / "beat.log", "w")  # noqa: SIM115 - closed with the process
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "alc_portal", "beat", "-l", "info",
         "--scheduler", "django_celery_beat.schedulers:DatabaseScheduler",
         "--schedule", str(tmp_path / "beat-schedule")],
        cwd=PROJECT_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip


def _report(client):
    response = client.get(reverse("status_json"))
    return response.status_code, response.json()


def _check(report, name):
    return next(c for c in report["checks"] if c["name"] == name)


@pytest.fixture
def staff_client():
    client = Client()
    client.force_login(StaffFactory())
    return client


def test_the_page_turns_red_when_the_worker_is_stopped_and_says_why(own_redis, staff_client):
    worker = _start_worker(own_redis.url, "status")
    try:
        wait_for(lambda: _check(_report(staff_client)[1], "workers")["ok"], timeout=60)
        page = staff_client.get(reverse("status")).text
        assert "worker(s) running" in page
        worker.send_signal(signal.SIGKILL)  # a worker that dies says nothing
        worker.wait()
        status, report = wait_for(
            lambda: (r := _report(staff_client)) and not _check(r[1], "workers")["ok"] and r,
            timeout=60,
        )
        assert status == 503
        assert report["status"] == "problem"
        assert any("No worker has been heard from" in p for p in report["problems"])
        assert "No worker has been heard from" in staff_client.get(reverse("status")).text
    finally:
        if worker.poll() is None:
            worker_stop(worker)


def test_the_page_turns_red_when_beat_is_stopped_and_says_why(own_redis, staff_client, tmp_path):
    env = _env(own_redis.url)
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        worker = worker_start(
            database_url=current_database_url(), redis_url=own_redis.url, name="status-beat"
        )
        beat = _start_beat(own_redis.url, tmp_path, env)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    try:
        wait_for(lambda: _check(_report(staff_client)[1], "beat")["ok"], timeout=90)
        beat.terminate()
        beat.wait(timeout=30)
        status, report = wait_for(
            lambda: (r := _report(staff_client)) and not _check(r[1], "beat")["ok"] and r,
            timeout=90,
        )
        assert status == 503
        assert any("not run on time" in p for p in report["problems"])
        assert _check(report, "workers")["ok"]  # the worker is still there: beat is the cause
    finally:
        for proc in (beat, worker):
            if proc.poll() is None:
                worker_stop(proc)


def test_the_json_twin_answers_a_monitor_with_the_token_and_nobody_else(
    own_redis, settings, client
):
    settings.STATUS_TOKEN = "a-long-random-monitoring-token"
    assert client.get(reverse("status_json")).status_code == 403
    wrong = client.get(reverse("status_json"), headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 403
    right = client.get(
        reverse("status_json"), headers={"Authorization": "Bearer a-long-random-monitoring-token"}
    )
    assert right.status_code in (200, 503)
    assert {c["name"] for c in right.json()["checks"]} >= {"workers", "beat", "failures"}


def test_only_national_staff_open_the_page(own_redis, client):
    assert client.get(reverse("status")).status_code == 302
    client.force_login(CouncillorFactory().user)
    assert client.get(reverse("status")).status_code == 403
    assert client.get(reverse("status_json")).status_code == 403
