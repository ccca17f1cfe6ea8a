"""/healthz: the database, Redis and a fresh worker heartbeat, from cheap facts only; details for
national staff and monitors with the token, one word for everyone else."""

import json
import os
import signal
import threading
import time
import urllib.error
import urllib.request

import pytest
import redis
from celery import Celery
from django.urls import reverse
from factories import StaffFactory, UserFactory
from polling import wait_for
from workers import current_database_url, free_port, web_start, worker_start, worker_stop

from alc_portal import heartbeats
from alc_portal.embedded import EmbeddedRedis

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "monitor-token-for-tests-0123456789"
ALL_OK = {"status": "ok", "database": "ok", "redis": "ok", "celery_worker": "ok"}


@pytest.fixture
def own_redis(tmp_path):
    server = EmbeddedRedis(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def quick_heartbeats(settings, monkeypatch, own_redis):
    """Workers (started after this) beat every half second on their own Redis, and one silent
    for three seconds counts as gone; this process asks the same Redis."""
    monkeypatch.setenv("WORKER_HEARTBEAT_SECONDS", "0.5")
    monkeypatch.setenv("WORKER_STALE_SECONDS", "3")
    settings.WORKER_HEARTBEAT_SECONDS = 0.5
    settings.WORKER_STALE_SECONDS = 3
    settings.REDIS_URL = own_redis.url
    return own_redis


def _fresh_heartbeats(url: str) -> int:
    client = redis.Redis.from_url(url)
    try:
        return client.zcount(heartbeats.WORKERS_KEY, time.time() - 3, "+inf")
    finally:
        client.close()


def _worker_with_heartbeat(own_redis, name):
    worker = worker_start(database_url=current_database_url(), redis_url=own_redis.url, name=name)
    wait_for(lambda: _fresh_heartbeats(own_redis.url), timeout=60)
    return worker


def _details(client):
    return client.get(reverse("healthz"), headers={"authorization": f"Bearer {TOKEN}"})


def test_healthy_with_a_fresh_heartbeat_and_one_word_for_anonymous_callers(
    client, settings, quick_heartbeats
):
    settings.STATUS_TOKEN = TOKEN
    worker = _worker_with_heartbeat(quick_heartbeats, "healthz-fresh")
    try:
        anonymous = client.get(reverse("healthz"))
        assert anonymous.status_code == 200
        assert anonymous["Content-Type"].startswith("text/plain")
        assert anonymous.content == b"ok"

        assert _details(client).json() == ALL_OK
        client.force_login(StaffFactory())
        assert client.get(reverse("healthz")).json() == ALL_OK
    finally:
        worker_stop(worker)


def test_signed_in_people_other_than_staff_and_wrong_tokens_get_no_detail(client, settings):
    settings.STATUS_TOKEN = TOKEN
    wrong = client.get(reverse("healthz"), headers={"authorization": "Bearer not-the-token"})
    assert wrong.content in (b"ok", b"unavailable")
    client.force_login(UserFactory())
    assert client.get(reverse("healthz")).content in (b"ok", b"unavailable")


def test_unavailable_within_the_heartbeats_lifetime_after_the_worker_is_killed(
    client, settings, quick_heartbeats
):
    settings.STATUS_TOKEN = TOKEN
    worker = _worker_with_heartbeat(quick_heartbeats, "healthz-killed")
    try:
        assert _details(client).status_code == 200
        # Killed outright, the worker cannot take its heartbeat back: it lapses.
        os.kill(worker.pid, signal.SIGKILL)
        killed_at = time.monotonic()
        wait_for(lambda: _details(client).status_code == 503, timeout=30, interval=0.1)
        noticed_after = time.monotonic() - killed_at
    finally:
        worker_stop(worker)
    assert _details(client).json() == {**ALL_OK, "status": "unavailable", "celery_worker": "down"}
    assert client.get(reverse("healthz")).content == b"unavailable"
    # Three seconds of silence, measured from the worker's last heartbeat (up to half a second
    # before the kill); a second more for a busy machine.
    assert noticed_after <= settings.WORKER_STALE_SECONDS + 1


def test_unavailable_at_once_when_the_worker_stops_cleanly(client, settings, quick_heartbeats):
    settings.STATUS_TOKEN = TOKEN
    worker = _worker_with_heartbeat(quick_heartbeats, "healthz-stopped")
    assert _details(client).status_code == 200
    worker_stop(worker)
    assert _details(client).json()["celery_worker"] == "down"


class _ControlMessages:
    """Counts Celery control messages (broadcasts to the workers' pidbox) on a Redis server."""

    def __init__(self, url):
        self.count = 0
        self._client = redis.Redis.from_url(url)
        self._pubsub = self._client.pubsub(ignore_subscribe_messages=True)
        self._pubsub.psubscribe("*pidbox*")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._listen, daemon=True)
        self._thread.start()

    def _listen(self):
        while not self._stop.is_set():
            if self._pubsub.get_message(timeout=0.1):
                self.count += 1

    def close(self):
        self._stop.set()
        self._thread.join()
        self._pubsub.close()
        self._client.close()


def test_it_sends_no_broadcast_to_the_workers(client, settings, quick_heartbeats):
    settings.STATUS_TOKEN = TOKEN
    worker = _worker_with_heartbeat(quick_heartbeats, "healthz-quiet")
    messages = _ControlMessages(quick_heartbeats.url)
    try:
        for _ in range(50):
            assert _details(client).status_code == 200
            assert client.get(reverse("healthz")).status_code == 200
        quiet = messages.count
        # The counter does see a broadcast: a ping, as /healthz once sent, is counted.
        probe = Celery(broker=quick_heartbeats.url, set_as_current=False)
        try:
            probe.control.ping(timeout=0.5)
        finally:
            probe.close()
        wait_for(lambda: messages.count > quiet, timeout=10)
    finally:
        messages.close()
        worker_stop(worker)
    assert quiet == 0


# A separate portal process, for what cannot change inside this one: Redis stopping under it,
# and a database that does not answer.


def _healthz(base_url):
    request = urllib.request.Request(
        f"{base_url}/healthz", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_it_is_unavailable_while_redis_is_stopped_and_recovers(monkeypatch, quick_heartbeats):
    monkeypatch.setenv("STATUS_TOKEN", TOKEN)
    database_url = current_database_url()
    worker = _worker_with_heartbeat(quick_heartbeats, "healthz-redis")
    web = web_start(database_url=database_url, redis_url=quick_heartbeats.url)
    try:
        assert _healthz(web.url) == (200, ALL_OK)

        quick_heartbeats.stop()
        status, body = _healthz(web.url)
        assert status == 503
        assert body == {**ALL_OK, "status": "unavailable", "redis": "down", "celery_worker": "down"}

        quick_heartbeats.start()
        # The worker and the web process reconnect to Redis by themselves.
        wait_for(lambda: _healthz(web.url)[0] == 200, timeout=120, interval=0.5)
    finally:
        worker_stop(web)
        worker_stop(worker)


def test_it_is_unavailable_when_the_database_does_not_answer(monkeypatch, own_redis):
    monkeypatch.setenv("STATUS_TOKEN", TOKEN)
    # Nothing listens on this port.
    dead_database = f"postgres://portal:portal@127.0.0.1:{free_port()}/portal"
    web = web_start(database_url=dead_database, redis_url=own_redis.url, gunicorn=True)
    try:
        status, body = _healthz(web.url)
    finally:
        worker_stop(web)
    assert status == 503
    assert body == {**ALL_OK, "status": "unavailable", "database": "down", "celery_worker": "down"}
