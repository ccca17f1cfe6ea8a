"""`make run` as a newcomer uses it: it prepares an empty database, serves the login page with a
worker answering, and Ctrl-C stops everything it started, embedded servers included."""

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
from workers import PROJECT_DIR, free_port


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


def test_make_run_serves_the_portal_on_its_own_services_and_ctrl_c_stops_all():
    """The real target with neither DATABASE_URL nor REDIS_URL set: it starts PostgreSQL and
    Redis of its own, and Ctrl-C (SIGINT to the whole process group, as a terminal sends it)
    stops them with everything else."""
    # Not under pytest's tmp_path: as root the database server runs as another user.
    var_dir = Path(tempfile.mkdtemp(prefix="alc-make-run-"))
    port, mail_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(DEBUG="1", ALC_VAR_DIR=str(var_dir), PYTHONUNBUFFERED="1")
    log_path = var_dir / "make-run.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            ["make", "--no-print-directory", "run", f"PORT={port}", f"MAIL_PORT={mail_port}"],
            cwd=PROJECT_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        status, page = _wait_for(f"http://127.0.0.1:{port}/accounts/login/", proc, seconds=300)
        assert status == 200 and 'name="password"' in page
        deadline = time.monotonic() + 60
        while True:
            status, body = _get(f"http://127.0.0.1:{port}/healthz")
            if status == 200 or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert status == 200, body
        # 200 means a worker's heartbeat is fresh; anonymous callers are told no more.
        assert body == "ok"
        processes = psutil.Process(proc.pid).children(recursive=True)
        commands = " ".join(" ".join(p.cmdline()) for p in processes)
        for part in ("runserver", "worker", "beat", "mailcatcher"):
            assert part in commands, f"no {part} among {commands}"
        # Links in emails (invitations, unsubscribe) point at this server, not the default port.
        (web,) = [p for p in processes if "runserver" in p.cmdline()]
        assert web.environ()["PORTAL_URL"] == f"http://127.0.0.1:{port}"
        output = log_path.read_text()
        started = dict(re.findall(r"embedded (PostgreSQL|Redis) on 127\.0\.0\.1:(\d+) \(", output))
        assert set(started) == {"PostgreSQL", "Redis"}, output
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=90)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    output = log_path.read_text()
    try:
        # The demo accounts and their password are printed for the person at the keyboard.
        assert "staff@demo.alc.example.org" in output and "demo-portal-2026" in output
        for name, service_port in started.items():
            assert f"embedded {name} on 127.0.0.1:{service_port} stopped" in output, output
        gone, alive = psutil.wait_procs(processes, timeout=10)
        assert not alive, [" ".join(p.cmdline()) for p in alive]
        for service_port in [port, mail_port, *map(int, started.values())]:
            with socket.create_server(("127.0.0.1", service_port)):
                pass  # nothing listens there any more
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)
