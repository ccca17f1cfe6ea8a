"""/healthz, asked over HTTP of a separate portal process with its own Redis and worker."""

import json
import urllib.error
import urllib.request

import pytest
from django.urls import reverse
from polling import wait_for
from workers import (
    current_database_url,
    free_port,
    web_start,
    worker_answers,
    worker_start,
    worker_stop,
)

from alc_portal.embedded import EmbeddedRedis

pytestmark = pytest.mark.django_db(transaction=True)

# The portal gives a worker HEALTHZ_CELERY_TIMEOUT (a second by default) to answer its ping.
# Where a test expects an answer, it first waits until the worker answers pings at all, and then
# allows five seconds: on a busy machine the reply may take longer than a second, which is not
# what these tests are about.
PING_SECONDS = "5"


def _healthz(base_url):
    try:
        with urllib.request.urlopen(f"{base_url}/healthz", timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


@pytest.fixture
def own_redis(settings, tmp_path):
    server = EmbeddedRedis(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


def test_it_is_healthy_when_database_redis_and_a_worker_answer(client, celery_worker, settings):
    settings.HEALTHZ_CELERY_TIMEOUT = float(PING_SECONDS)
    wait_for(lambda: worker_answers(settings.CELERY_BROKER_URL), timeout=60)
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "redis": "ok",
        "celery_worker": "ok",
    }


def _healthz_of_a_new_portal(**web):
    """/healthz of a portal process started for one question, and stopped."""
    proc = web_start(**web)
    try:
        return _healthz(proc.url)
    finally:
        worker_stop(proc)


def test_it_is_unavailable_when_no_worker_answers(own_redis):
    status, body = _healthz_of_a_new_portal(
        database_url=current_database_url(), redis_url=own_redis.url
    )
    assert status == 503
    assert body == {
        "status": "unavailable",
        "database": "ok",
        "redis": "ok",
        "celery_worker": "down",
    }


def test_it_is_unavailable_while_redis_is_stopped_and_recovers(own_redis, monkeypatch):
    monkeypatch.setenv("HEALTHZ_CELERY_TIMEOUT", PING_SECONDS)
    database_url = current_database_url()
    worker = worker_start(database_url=database_url, redis_url=own_redis.url, name="healthz")
    web = web_start(database_url=database_url, redis_url=own_redis.url)
    try:
        wait_for(lambda: worker_answers(own_redis.url), timeout=60)
        assert _healthz(web.url) == (
            200,
            {"status": "ok", "database": "ok", "redis": "ok", "celery_worker": "ok"},
        )

        own_redis.stop()
        status, body = _healthz(web.url)
        assert status == 503
        assert body["redis"] == "down"
        assert body["celery_worker"] == "down"
        assert body["database"] == "ok"

        own_redis.start()
        # The worker and the web process reconnect to Redis by themselves.
        wait_for(lambda: _healthz(web.url)[0] == 200, timeout=120, interval=0.5)
    finally:
        worker_stop(web)
        worker_stop(worker)


def test_it_is_unavailable_when_the_database_does_not_answer(own_redis):
    # Nothing listens on this port.
    dead_database = f"postgres://portal:portal@127.0.0.1:{free_port()}/portal"
    status, body = _healthz_of_a_new_portal(
        database_url=dead_database, redis_url=own_redis.url, gunicorn=True
    )
    assert status == 503
    assert body == {
        "status": "unavailable",
        "database": "down",
        "redis": "ok",
        "celery_worker": "down",
    }
