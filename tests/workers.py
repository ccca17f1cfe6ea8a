"""Start and stop real Celery worker processes for tests."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from celery import Celery
from django.db import connection

PROJECT_DIR = Path(__file__).resolve().parent.parent
# Logs go with the test run's other files (`make test` sets ALC_VAR_DIR to var/test).
LOG_DIR = Path(os.environ.get("ALC_VAR_DIR") or PROJECT_DIR / "var")


def current_database_url() -> str:
    """The URL of the database Django is using now (the test database, inside tests)."""
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


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
