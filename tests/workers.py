"""Start and stop real Celery worker processes for tests."""

import contextlib
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import redis
from celery import Celery
from django.conf import settings
from django.db import connection

PROJECT_DIR = Path(__file__).resolve().parent.parent
# Logs go with the test run's other files (`make test` sets ALC_VAR_DIR to var/test).
LOG_DIR = Path(os.environ.get("ALC_VAR_DIR") or PROJECT_DIR / "var")


def current_database_url() -> str:
    """The URL of the database Django is using now (the test database, inside tests)."""
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@contextlib.contextmanager
def environment(changes: dict, *, unset=()):
    """Set `changes` and remove `unset` in os.environ (which a started process inherits), and put
    every one of them back as it was on leaving."""
    saved = {key: os.environ.get(key) for key in [*changes, *unset]}
    for key in unset:
        os.environ.pop(key, None)
    os.environ.update(changes)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def worker_start(*, database_url: str, redis_url: str | None = None, name: str = "test"):
    """Start `celery worker` as a child process and wait until it is ready to take tasks."""
    env = {**os.environ, "DATABASE_URL": database_url, "DATABASE_CONN_MAX_AGE": "0"}
    if redis_url:
        env["REDIS_URL"] = redis_url
    # Readiness is read from the worker's log, which must therefore show INFO lines.
    if env.get("LOG_LEVEL", "").strip().upper() != "DEBUG":
        env["LOG_LEVEL"] = "INFO"
    node = f"{name}-{os.getpid()}-{time.monotonic_ns()}@"
    log_path = LOG_DIR / f"celery-{name}-{os.getpid()}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "alc_portal", "worker", "-P", "solo",
             "-l", "info", "--without-gossip", "--without-mingle", "-n", f"{node}%h"],
            cwd=PROJECT_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    # The worker logs "<node>@<host> ready." once it consumes its queue. (Not a ping: a worker
    # running a task answers none until the task ends, and drops pings that expired meanwhile,
    # so one that finds work waiting may not answer for as long as the work lasts.)
    deadline = time.monotonic() + 120
    while not _logged_ready(log_path, node):
        if proc.poll() is not None:
            raise RuntimeError(f"Celery worker exited early; see {log_path}")
        if time.monotonic() > deadline:
            worker_stop(proc)
            raise RuntimeError(f"Celery worker was not ready within 120 s; see {log_path}")
        time.sleep(0.1)
    proc.log_path = log_path
    return proc


def _logged_ready(log_path: Path, node: str) -> bool:
    with open(log_path, errors="replace") as log:
        return any(node in line and line.rstrip().endswith(" ready.") for line in log)


@contextlib.contextmanager
def notice_workers_on_own_queue(smtp, monkeypatch, *, queue_prefix: str):
    """Yield `start(name)`, which starts a worker of our own that sends outbox notices to `smtp`
    and returns its process. Every worker takes tasks from a queue of this test's own (so that
    no other worker takes its jobs), gives up a stale notice claim after 2 s (so that a notice
    a killed worker held is sent again soon), and is stopped at the end along with the queue."""
    from alc_portal.celery import app as celery_app

    queue = f"{queue_prefix}-{uuid.uuid4().hex[:8]}"
    monkeypatch.setitem(celery_app.conf, "task_default_queue", queue)
    env = {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": smtp.host,
        "EMAIL_PORT": str(smtp.port),
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "NOTICE_CLAIM_TIMEOUT": "2",
    }
    started = []

    def start(name):
        with environment(env, unset=["EMAIL_URL"]):
            proc = worker_start(database_url=current_database_url(), name=name)
        started.append(proc)
        return proc

    try:
        yield start
    finally:
        for proc in started:
            if proc.poll() is None:
                worker_stop(proc)
        redis.Redis.from_url(settings.REDIS_URL).delete(queue, f"_kombu.binding.{queue}")


def worker_answers(broker_url: str) -> bool:
    """Whether a worker on this broker answers a ping within a second. A worker is ready to
    take tasks a little before it hears control messages, and a worker running a task answers
    none until the task ends."""
    # A separate app: control messages go out through an app's own producer pool, so the
    # project's app would always ping the default broker.
    probe = Celery(broker=broker_url, set_as_current=False)
    try:
        return bool(probe.control.ping(timeout=1.0))
    finally:
        probe.close()


def worker_stop(proc) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def web_start(*, database_url: str, redis_url: str, name: str = "web", gunicorn: bool = False):
    """Serve the portal from a separate process (runserver), as a browser or probe would see it.
    `gunicorn` serves it as production does instead, which, unlike runserver, starts without a
    database.

    Returns the process, with its base URL in `.url`.
    """
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url}
    log_path = LOG_DIR / f"web-{name}-{os.getpid()}.log"
    if gunicorn:
        command = ["-m", "gunicorn", "alc_portal.wsgi", "--bind", f"127.0.0.1:{port}"]
    else:
        command = ["manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, *command],
            cwd=PROJECT_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    proc.url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"web server exited early; see {log_path}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return proc
        except OSError:
            time.sleep(0.1)
    worker_stop(proc)
    raise RuntimeError(f"web server did not listen within 30 s; see {log_path}")
