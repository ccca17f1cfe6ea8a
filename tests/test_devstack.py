"""`make run`'s supervisor, as a newcomer uses it: it prepares an empty database, serves the
login page with a worker answering, and Ctrl-C stops everything it started."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

import psutil
import psycopg2
import pytest
from django.conf import settings
from workers import PROJECT_DIR, free_port

DATABASE = "alc_devstack_check"


@pytest.fixture
def empty_database():
    """A fresh database on the test run's PostgreSQL server, dropped afterwards."""
    db = settings.DATABASES["default"]
    admin = psycopg2.connect(
        dbname="postgres",
        user=db["USER"],
        password=db["PASSWORD"],
        host=db["HOST"],
        port=db["PORT"],
    )
    admin.autocommit = True

    def drop():
        with admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")

    drop()
    with admin.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {DATABASE}")
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    yield f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{DATABASE}"
    drop()
    admin.close()


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _wait_for(url: str, proc, seconds: float) -> tuple[int, str]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the portal stopped before serving"
        try:
            return _get(url)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    raise AssertionError(f"nothing answered at {url} within {seconds:.0f} s")


def test_make_run_serves_the_portal_and_stops_cleanly(empty_database, tmp_path):
    port, mail_port = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DEBUG": "1",
        "DATABASE_URL": empty_database,
        # Its own Redis database and queue: the test run's worker must not take its tasks.
        "REDIS_URL": urlsplit(settings.REDIS_URL)._replace(path="/9").geturl(),
        "CELERY_TASK_DEFAULT_QUEUE": "devstack-check",
        "ALC_VAR_DIR": str(tmp_path),
    }
    log_path = tmp_path / "devstack.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "alc_portal.devstack", "--port", str(port),
             "--mail-port", str(mail_port)],
            cwd=PROJECT_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        status, page = _wait_for(f"{base}/accounts/login/", proc, seconds=240)
        assert status == 200
        assert 'name="password"' in page

        deadline = time.monotonic() + 60
        while True:
            status, body = _get(f"{base}/healthz")
            if status == 200 or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert status == 200, body
        assert json.loads(body)["celery_worker"] == "ok"
        children = psutil.Process(proc.pid).children(recursive=True)
        commands = " ".join(" ".join(c.cmdline()) for c in children)
        for part in ("runserver", "worker", "beat"):
            assert part in commands, f"no {part} among {commands}"
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    output = log_path.read_text()
    # The demo accounts and their password are printed for the person at the keyboard.
    assert "staff@demo.alc.example.org" in output and "demo-portal-2026" in output
    # Nothing it started is left running or listening.
    gone, alive = psutil.wait_procs(children, timeout=10)
    assert not alive, [" ".join(p.cmdline()) for p in alive]
    with pytest.raises(urllib.error.URLError):
        _get(f"{base}/accounts/login/")
    with socket.create_server(("127.0.0.1", mail_port)):
        pass  # the mail catcher's port is free again
