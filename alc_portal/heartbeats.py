"""What the workers say about themselves, for /healthz and the status page: each Celery worker
writes a heartbeat to Redis every WORKER_HEARTBEAT_SECONDS; each run of a periodic job (the ones
beat starts) and each failed task is noted too. These are observations, kept briefly in Redis;
nothing that decides what is sent depends on them."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
import time

import redis
from celery.signals import task_failure, task_prerun, worker_ready, worker_shutdown
from django.conf import settings

log = logging.getLogger(__name__)

WORKER_KEY = "alc:status:worker:"
# Every worker's last heartbeat in one sorted set (name -> time), so that /healthz can count the
# fresh ones in a single command.
WORKERS_KEY = "alc:status:workers"
JOB_KEY = "alc:status:job:"
FAILURES_KEY = "alc:status:task-failures"
FAILURES_KEPT = 500


@contextlib.contextmanager
def _redis(*, quiet: bool = False):
    """A Redis client for a moment, closed after. `quiet` for a note that may be lost: a Redis
    error is ignored, so that no worker or task fails for want of it."""
    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1, retry_on_timeout=False
    )
    try:
        yield client
    except redis.RedisError:
        if not quiet:
            raise
    finally:
        client.close()


def worker_heartbeat_write(name: str) -> None:
    """Note that the worker `name` is alive now; the note lapses unless written again."""
    now = time.time()
    ttl = max(int(settings.WORKER_STALE_SECONDS * 4), 10)
    with _redis() as client:
        pipe = client.pipeline(transaction=False)
        pipe.set(WORKER_KEY + name, json.dumps({"at": now, "pid": os.getpid()}), ex=ttl)
        pipe.zadd(WORKERS_KEY, {name: now})
        pipe.zremrangebyscore(WORKERS_KEY, "-inf", now - ttl)
        pipe.expire(WORKERS_KEY, ttl)
        pipe.execute()


def fresh_workers_count(pipe, *, since: float) -> None:
    """Add to the Redis pipeline `pipe` the count of workers heard from since `since`."""
    pipe.zcount(WORKERS_KEY, since, "+inf")


def _values_under(prefix: str) -> dict[str, bytes]:
    """The value of every key that starts with `prefix`, by the rest of its name."""
    with _redis() as client:
        keys = list(client.scan_iter(match=prefix + "*", count=500))
        values = client.mget(keys) if keys else []
    # A key that expired between the scan and the read has no value.
    return {
        key.decode()[len(prefix) :]: value for key, value in zip(keys, values, strict=True) if value
    }


def workers_seen() -> dict[str, float]:
    """Each worker that has written a heartbeat lately, and when (seconds since the epoch)."""
    return {name: json.loads(value)["at"] for name, value in _values_under(WORKER_KEY).items()}


def jobs_last_run() -> dict[str, float]:
    """When each periodic job last started in a worker (seconds since the epoch)."""
    return {name: float(value) for name, value in _values_under(JOB_KEY).items()}


def task_failures_since(since: float) -> list[dict]:
    with _redis() as client:
        entries = [json.loads(raw) for raw in client.lrange(FAILURES_KEY, 0, FAILURES_KEPT)]
    return [entry for entry in entries if entry["at"] >= since]


class _Heartbeat(threading.Thread):
    def __init__(self, name: str):
        super().__init__(name="alc-heartbeat", daemon=True)
        self.worker = name
        self.stopped = threading.Event()

    def run(self):
        while not self.stopped.is_set():
            try:
                worker_heartbeat_write(self.worker)
            except redis.RedisError:
                log.warning("Could not write the worker's heartbeat", exc_info=True)
            self.stopped.wait(settings.WORKER_HEARTBEAT_SECONDS)


_beating: _Heartbeat | None = None


@worker_ready.connect(dispatch_uid="alc-heartbeat-start")
def _start_heartbeat(sender=None, **kwargs):
    global _beating
    name = getattr(sender, "hostname", None) or socket.gethostname()
    _beating = _Heartbeat(name)
    _beating.start()


@worker_shutdown.connect(dispatch_uid="alc-heartbeat-stop")
def _stop_heartbeat(sender=None, **kwargs):
    if _beating is None:
        return
    _beating.stopped.set()
    with _redis(quiet=True) as client:
        client.delete(WORKER_KEY + _beating.worker)
        client.zrem(WORKERS_KEY, _beating.worker)


def _scheduled_tasks() -> set[str]:
    return {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}


@task_prerun.connect(dispatch_uid="alc-job-run")
def _note_job_run(sender=None, **kwargs):
    if sender is None or sender.name not in _scheduled_tasks():
        return
    with _redis(quiet=True) as client:
        client.set(JOB_KEY + sender.name, time.time(), ex=7 * 24 * 60 * 60)


@task_failure.connect(dispatch_uid="alc-task-failure")
def _note_failure(sender=None, exception=None, **kwargs):
    entry = {"at": time.time(), "task": getattr(sender, "name", "?"), "error": repr(exception)}
    with _redis(quiet=True) as client:
        client.lpush(FAILURES_KEY, json.dumps(entry)[:2000])
        client.ltrim(FAILURES_KEY, 0, FAILURES_KEPT - 1)
