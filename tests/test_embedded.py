"""The zero-setup services: embedded PostgreSQL and Redis, their launcher, the mail catcher.

These start real servers in temporary directories and need no Django database.
"""

import os
import pty
import select
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

import psycopg2
import pytest
import redis

from alc_portal.embedded import EmbeddedPostgres, EmbeddedRedis, redis_server_binary
from alc_portal.mailcatcher import SmtpCatcher

PROJECT_DIR = Path(__file__).resolve().parent.parent


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def var_dir():
    # Not under pytest's tmp_path: as root the server runs as another user, who must be able
    # to reach the directory.
    path = Path(tempfile.mkdtemp(prefix="alc-embedded-test-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _launcher_env(var_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(ALC_VAR_DIR=str(var_dir), PYTHONUNBUFFERED="1", **extra)
    return env


def _launch(var_dir: Path, code: str, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "alc_portal.embedded", "--", sys.executable, "-c", code],
        cwd=PROJECT_DIR,
        env=_launcher_env(var_dir, **extra),
        capture_output=True,
        text=True,
        timeout=60,
    )


PRINT_URLS = "import os; print(os.environ['DATABASE_URL']); print(os.environ['REDIS_URL'])"


def test_redis_server_binary_is_bundled():
    assert os.access(redis_server_binary(), os.X_OK)


def test_redis_starts_answers_stops_and_restarts_on_the_same_port(tmp_path):
    server = EmbeddedRedis(tmp_path / "redis")
    url = server.start()
    try:
        assert url == f"redis://127.0.0.1:{server.port}/0"
        client = redis.Redis.from_url(url, socket_timeout=2)
        assert client.ping()
        client.close()

        port = server.port
        server.stop()
        assert not _port_open(port)

        assert server.start() == url
        assert server.port == port
        client = redis.Redis.from_url(url, socket_timeout=2)
        assert client.ping()
        client.close()
    finally:
        server.stop()
    assert not _port_open(port)


def test_redis_is_shared_and_stopped_by_its_last_user(tmp_path):
    first = EmbeddedRedis(tmp_path / "redis")
    second = EmbeddedRedis(tmp_path / "redis")
    try:
        url = first.start()
        assert second.start() == url  # reused, not a second server
        first.stop()
        assert redis.Redis.from_url(url, socket_timeout=2).ping()
    finally:
        first.stop()
        second.stop()
    assert not _port_open(first.port)


def test_postgres_starts_serves_the_database_and_stops(var_dir, monkeypatch):
    server = EmbeddedPostgres(var_dir / "postgres")
    url = server.start()
    try:
        assert url == f"postgres://postgres@127.0.0.1:{server.port}/alc_portal"
        with psycopg2.connect(url, connect_timeout=5) as conn, conn.cursor() as cursor:
            cursor.execute("SELECT 1")
            assert cursor.fetchone() == (1,)
            cursor.execute("CREATE TABLE IF NOT EXISTS kept (n int)")
            cursor.execute(
                "SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = 'postgres'"
            )
            assert cursor.fetchone() == (True,)
        conn.close()
    finally:
        server.stop()
    assert not _port_open(server.port)

    # The data directory persists: a second start makes no new cluster and keeps the data.
    monkeypatch.setattr(server, "_initdb", lambda: pytest.fail("initdb ran on the second start"))
    server.start()
    try:
        with psycopg2.connect(server.url, connect_timeout=5) as conn, conn.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM kept")
            assert cursor.fetchone() == (0,)
        conn.close()
    finally:
        server.stop()


def test_postgres_is_shared_and_stopped_by_its_last_user(var_dir):
    first = EmbeddedPostgres(var_dir / "postgres")
    second = EmbeddedPostgres(var_dir / "postgres")
    try:
        url = first.start()
        assert second.start() == url  # reused, not a second server
        first.stop()
        with psycopg2.connect(url, connect_timeout=5) as conn, conn.cursor() as cursor:
            cursor.execute("SELECT 1")
            assert cursor.fetchone() == (1,)
        conn.close()
    finally:
        first.stop()
        second.stop()
    assert not _port_open(first.port)


def test_smtp_catcher_receives_parses_saves_and_survives_an_outage(tmp_path):
    catcher = SmtpCatcher(directory=tmp_path / "mail").start()
    try:
        message = EmailMessage()
        message["From"] = "portal@example.org"
        message["To"] = "councillor@example.org"
        message["Subject"] = "Welcome to the portal"
        message.set_content("Hello, councillor.\n")
        with smtplib.SMTP(catcher.host, catcher.port, timeout=5) as smtp:
            smtp.send_message(message, to_addrs=["councillor@example.org", "bcc@example.org"])

        (received,) = catcher.wait_for(1)
        assert received["Subject"] == "Welcome to the portal"
        assert received.get_content() == "Hello, councillor.\n"
        assert received.mail_from == "portal@example.org"
        assert received.rcpt_tos == ["councillor@example.org", "bcc@example.org"]
        (saved,) = (tmp_path / "mail").glob("*.eml")
        assert saved == received.path
        assert saved.read_bytes() == received.raw

        port = catcher.port
        catcher.stop()
        with pytest.raises(OSError):
            smtplib.SMTP("127.0.0.1", port, timeout=2)

        catcher.start()
        assert catcher.port == port
        with smtplib.SMTP("127.0.0.1", port, timeout=5) as smtp:
            smtp.send_message(message)
        assert len(catcher.wait_for(2)) == 2
    finally:
        catcher.stop()


def test_launcher_exports_both_urls_and_stops_what_it_started(var_dir):
    result = _launch(var_dir, PRINT_URLS)
    assert result.returncode == 0, result.stderr
    database_url, redis_url = result.stdout.split()
    assert database_url.startswith("postgres://postgres@127.0.0.1:")
    assert database_url.endswith("/alc_portal")
    assert redis_url.startswith("redis://127.0.0.1:")
    assert "embedded PostgreSQL on 127.0.0.1:" in result.stderr
    for url in (database_url, redis_url):
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        assert not _port_open(port)


def test_launcher_uses_an_explicit_redis_url_and_starts_no_redis(var_dir, tmp_path):
    external = EmbeddedRedis(tmp_path / "elsewhere")  # stands in for the site's own Redis
    explicit = external.start().removesuffix("/0") + "/3"
    try:
        code = PRINT_URLS + (
            "; import redis; r = redis.Redis.from_url(os.environ['REDIS_URL'])"
            "; r.set('written-by', 'the portal'); print(r.ping())"
        )
        result = _launch(var_dir, code, REDIS_URL=explicit)
        assert result.returncode == 0, result.stderr
        database_url, redis_url, pinged = result.stdout.split()
        assert database_url.startswith("postgres://postgres@127.0.0.1:")
        assert (redis_url, pinged) == (explicit, "True")
        assert "Redis" not in result.stderr
        assert EmbeddedRedis(var_dir / "redis").running_url() is None
        assert redis.Redis.from_url(explicit).get("written-by") == b"the portal"
    finally:
        external.stop()


def test_launcher_starts_nothing_when_both_urls_are_set_and_passes_the_exit_code(tmp_path):
    urls = {"DATABASE_URL": "postgres://u@db.example.org/x", "REDIS_URL": "redis://r:1/0"}
    result = _launch(tmp_path, PRINT_URLS + "; raise SystemExit(7)", **urls)
    assert result.returncode == 7
    assert result.stdout.split() == [urls["DATABASE_URL"], urls["REDIS_URL"]]
    assert not (tmp_path / "postgres").exists()
    assert not (tmp_path / "redis").exists()


# A child that reports how many SIGINT/SIGTERM it received, then exits.
COUNT_SIGNALS = """
import signal, sys, time
got = []
for sig in (signal.SIGINT, signal.SIGTERM):
    signal.signal(sig, lambda signum, frame: got.append(signum))
print("ready", flush=True)
while not got:
    time.sleep(0.05)
time.sleep(0.5)
print("received", len(got), signal.Signals(got[0]).name, flush=True)
"""
NO_SERVICES = {"DATABASE_URL": "postgres://u@db.example.org/x", "REDIS_URL": "redis://r:1/0"}


def test_launcher_forwards_sigterm_to_the_command(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "alc_portal.embedded", "--", sys.executable, "-c", COUNT_SIGNALS],
        cwd=PROJECT_DIR,
        env=_launcher_env(tmp_path, **NO_SERVICES),
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stdout.readline().strip() == "ready"
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=10)
    finally:
        proc.kill()
    assert out.split() == ["received", "1", "SIGTERM"]
    assert proc.returncode == 0


def test_ctrl_c_in_a_terminal_reaches_the_command_once(tmp_path):
    """The terminal sends Ctrl-C to the launcher and the command: it must not be doubled."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "alc_portal.embedded", "--", sys.executable, "-c", COUNT_SIGNALS],
        cwd=PROJECT_DIR,
        env=_launcher_env(tmp_path, **NO_SERVICES),
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
        preexec_fn=lambda: __import__("fcntl").ioctl(0, __import__("termios").TIOCSCTTY, 0),
    )
    os.close(slave)
    output = b""

    def read_until(marker: bytes, timeout: float = 10) -> None:
        nonlocal output
        deadline = time.monotonic() + timeout
        while marker not in output and time.monotonic() < deadline:
            if select.select([master], [], [], 0.1)[0]:
                try:
                    output += os.read(master, 1024)
                except OSError:
                    break

    try:
        read_until(b"ready")
        assert b"ready" in output
        os.write(master, b"\x03")  # Ctrl-C
        read_until(b"SIGINT")
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()
        os.close(master)
    assert b"received 1 SIGINT" in output
