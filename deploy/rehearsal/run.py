"""The production rehearsal (`make prod-check`): the portal installed and run from the files in
deploy/ with Debian's own servers, in a temporary folder, then checked (see checks.py).

    python -m deploy.rehearsal [--keep]

--keep leaves the temporary folder (logs, database, backups) for a look afterwards.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shutil
import signal
import sys
import tempfile
import time
import traceback
from pathlib import Path

import psutil

from . import checks
from .portal import AdminShell, env_file_write
from .servers import (
    LOOPBACK,
    Nginx,
    Postgres,
    Redis,
    ServerError,
    SmtpSink,
    certificate,
    free_port,
    packages_ensure,
    wait_for,
)
from .systemd import Service, Unit, parse_environment_file

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
VENV = ROOT / ".venv"
STAFF_EMAIL = "rehearsal.staff@alc.example.org"
CAMPAIGN_SLUG = "rehearsal-campaign"

# A staff account with a known TOTP secret, made with the portal's own services, and a campaign
# to upload a resource to. Values come in the environment (REHEARSAL_*).
SETUP = """
import json, os
from campaigns.models import Campaign
from members.services.accounts import two_factor_enrol, user_ensure
from members.services.staff import staff_appoint

env = os.environ
user, _ = user_ensure(
    email=env["REHEARSAL_EMAIL"], full_name="Rehearsal Staff", password=env["REHEARSAL_PASSWORD"]
)
staff_appoint(user=user, job_title="National organiser")
two_factor_enrol(user=user, totp_secret=env["REHEARSAL_TOTP_SECRET"])
Campaign.objects.get_or_create(
    slug=env["REHEARSAL_CAMPAIGN"],
    defaults={"title": "Rehearsal campaign", "summary": "Resources for the rehearsal."},
)
print(json.dumps({"user": user.pk}))
"""


class Failed(Exception):
    """A check did not pass: the message says which and why."""


class Rehearsal:
    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.logs = tmp / "logs"
        self.logs.mkdir(parents=True)
        self.env_file = tmp / "etc" / "alc-portal" / "env"
        self.env_file.parent.mkdir(parents=True)
        self.timings: list[tuple[str, float]] = []
        self.services: list[Service] = []
        self.servers: list = []
        self.password = secrets.token_urlsafe(18)
        self.totp_secret = "".join(
            secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(32)
        )
        self.last_code = ""
        self.findings: list[str] = []

    # -- plumbing -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def stage(self, name: str):
        print(f"\n==> {name}", flush=True)
        start = time.monotonic()
        try:
            yield
        finally:
            took = time.monotonic() - start
            self.timings.append((name, took))
            print(f"    ({name}: {took:.1f} s)", flush=True)

    @staticmethod
    def say(message: str) -> None:
        print(f"    {message}", flush=True)

    def check(self, ok, message: str) -> None:
        if not ok:
            raise Failed(message)
        self.say(f"ok: {message}")

    def unit(self, name: str, instance: str = "") -> Unit:
        return Unit(
            DEPLOY / "systemd" / name,
            instance=instance,
            paths={
                "/srv/alc-portal/app": str(ROOT),
                "/srv/alc-portal/venv": str(VENV),
                "/etc/alc-portal/env": str(self.env_file),
            },
        )

    def service(self, name: str, instance: str = "", label: str = "", **env) -> Service:
        service = Service(
            self.unit(name, instance),
            run_dir=self.tmp / "run",
            log_dir=self.logs,
            extra_env=env,
            label=label,
        )
        self.services.append(service)
        return service

    def worker_start(self, service: Service, timeout: float = 180) -> None:
        """Start a worker unit and wait until Celery says it consumes its queue."""
        offset = service.log_size()
        service.start()
        node = f"{service.unit.instance}@{service.unit.specifiers['H']}"
        wait_for(
            lambda: service.log_has(f"{node} ready.", offset) or service.assert_alive(),
            timeout,
            f"Celery worker {node} to be ready (see {service.log_path})",
        )

    # -- the run ------------------------------------------------------------------------------

    def run(self) -> None:
        with self.stage("Debian packages"):
            installed = packages_ensure()
            self.say(f"installed: {' '.join(installed)}" if installed else "all present")
        with self.stage("servers: PostgreSQL, Redis, smtp-sink, certificate"):
            self.servers_start()
        with self.stage("install: env file, migrate, collectstatic, load_councils"):
            self.install()
        with self.stage("start: 2 gunicorn, 2 Celery workers, beat, nginx"):
            self.portal_start()
        checks.run_all(self)

    def servers_start(self) -> None:
        self.tmp.chmod(0o755)  # PostgreSQL runs as an unprivileged user and must reach its folder
        self.pg = Postgres(self.tmp / "postgres").start()
        self.servers.append(self.pg)
        self.db_password = secrets.token_urlsafe(18)
        self.pg.psql(f"CREATE ROLE alc LOGIN PASSWORD '{self.db_password}'")
        self.pg.psql("CREATE DATABASE alc_portal OWNER alc")
        self.database_url = self.pg.url("alc", self.db_password, "alc_portal")
        self.say(f"PostgreSQL 15 on {LOOPBACK}:{self.pg.port} ({self.pg.data})")

        self.redis = Redis(self.tmp / "redis", DEPLOY / "redis.conf").start()
        self.servers.append(self.redis)
        shipped = {
            name: self.redis.config_get(name)
            for name in ("appendonly", "appendfsync", "maxmemory-policy", "bind")
        }
        self.check(
            shipped["appendonly"] == "yes"
            and shipped["appendfsync"] == "everysec"
            and shipped["maxmemory-policy"] == "noeviction"
            and shipped["bind"].split()[0] == "127.0.0.1",
            f"Redis runs deploy/redis.conf: {shipped}",
        )
        self.sink = SmtpSink(self.tmp / "sink").start()
        self.servers.append(self.sink)
        self.say(f"smtp-sink on {LOOPBACK}:{self.sink.port}")
        self.cert, key = certificate(self.tmp)
        self.nginx = Nginx(self.tmp / "nginx", DEPLOY / "nginx" / "alc-portal.conf", self.cert, key)

    def install(self) -> None:
        self.media_root = self.tmp / "srv" / "media"
        self.media_root.mkdir(parents=True)
        self.backup_dir = self.tmp / "backups"
        self.backup_dir.mkdir()
        self.web_ports = [free_port(), free_port()]
        env_file_write(
            DEPLOY / "env.example",
            self.env_file,
            {
                "SECRET_KEY": secrets.token_urlsafe(64),
                "ALLOWED_HOSTS": "localhost",
                "PORTAL_URL": self.nginx.base,
                "CSRF_TRUSTED_ORIGINS": self.nginx.base,
                "DATABASE_URL": self.database_url,
                "REDIS_URL": self.redis.url(0),
                "EMAIL_URL": f"smtp://{LOOPBACK}:{self.sink.port}",
                "MEDIA_ROOT": str(self.media_root),
                "STATIC_ROOT": str(self.tmp / "srv" / "static"),
                "GUNICORN_BIND": f"{LOOPBACK}:{self.web_ports[0]}",
                "GUNICORN_WORKERS": "2",
                # One process per worker: the two sending tasks then run on both workers.
                "CELERY_CONCURRENCY": "1",
                "BACKUP_DIR": str(self.backup_dir),
                "BACKUP_KEEP_DAYS": "7",
                # The rehearsal reads /healthz's details as a monitor would.
                "STATUS_TOKEN": secrets.token_urlsafe(32),
            },
        )
        self.env = parse_environment_file(self.env_file)
        self.say(f"environment file {self.env_file}, from deploy/env.example")
        self.admin = AdminShell(
            ROOT, VENV / "bin" / "python", self.env_file, self.logs / "admin.log"
        )
        for command in (
            ["migrate", "--noinput"],
            ["collectstatic", "--noinput"],
            ["load_councils"],
        ):
            start = time.monotonic()
            self.admin.manage(*command)
            self.say(f"manage.py {' '.join(command)}: {time.monotonic() - start:.1f} s")
        self.admin.shell_json(
            SETUP,
            overrides={
                "REHEARSAL_EMAIL": STAFF_EMAIL,
                "REHEARSAL_PASSWORD": self.password,
                "REHEARSAL_TOTP_SECRET": self.totp_secret,
                "REHEARSAL_CAMPAIGN": CAMPAIGN_SLUG,
            },
        )
        self.say(f"staff account {STAFF_EMAIL} with a TOTP authenticator; campaign {CAMPAIGN_SLUG}")

    def portal_start(self) -> None:
        self.web = [
            self.service(
                "alc-portal-web.service", label=f"web-{n + 1}", GUNICORN_BIND=f"{LOOPBACK}:{port}"
            )
            for n, port in enumerate(self.web_ports)
        ]
        for web in self.web:
            web.start(timeout=180)
            self.say(f"{web.label}: gunicorn on {web.extra_env['GUNICORN_BIND']}, READY=1 received")
        self.workers = {
            name: self.service("alc-portal-worker@.service", instance=name) for name in ("w1", "w2")
        }
        for worker in self.workers.values():
            self.worker_start(worker)
            node = f"{worker.unit.instance}@{worker.unit.specifiers['H']}"
            self.say(f"{worker.label}: Celery worker {node} ready")
        self.beat = self.service("alc-portal-beat.service")
        offset = self.beat.log_size()
        self.beat_started = time.time()
        self.beat.start()
        wait_for(
            lambda: self.beat.log_has("beat: Starting", offset) or self.beat.assert_alive(),
            120,
            "celery beat to start",
        )
        self.say("beat: started with the database scheduler")
        self.nginx.start([f"{LOOPBACK}:{port}" for port in self.web_ports])
        self.servers.append(self.nginx)
        self.say(
            f"nginx: {self.nginx.base} (HTTP on {self.nginx.http_port}), upstream of 2 gunicorns"
        )

    # -- the end ------------------------------------------------------------------------------

    def stop_everything(self) -> list[str]:
        """Stop every unit and server started, newest first; return any process left."""
        problems = []
        for service in reversed(self.services):
            try:
                service.stop(timeout=min(service.unit.stop_timeout, 60))
            except Exception as exc:  # noqa: BLE001 - go on stopping the others
                problems.append(f"stopping {service.label}: {exc}")
        for server in reversed(self.servers):
            try:
                server.stop()
            except Exception as exc:  # noqa: BLE001
                problems.append(f"stopping {type(server).__name__}: {exc}")
        for service in self.services:
            left = service.leftovers()
            if left:
                problems.append(f"{service.label} left processes {left}")
        if getattr(self, "pg", None) and self.pg.running_pid():
            problems.append("PostgreSQL is still running")
        for server in self.servers:
            proc = getattr(server, "proc", None)
            if proc is not None and proc.poll() is None:
                problems.append(f"{type(server).__name__} is still running")
        # Anything else still running from the rehearsal's folder (PostgreSQL's backends...).
        for proc in psutil.process_iter(["pid", "cmdline"]):
            if proc.pid != os.getpid() and str(self.tmp) in " ".join(proc.info["cmdline"] or []):
                problems.append(f"process {proc.pid} still runs: {' '.join(proc.info['cmdline'])}")
        return problems

    def log_tails(self, lines: int = 25) -> None:
        for path in sorted(self.logs.glob("*.log")):
            text = path.read_text(errors="replace").splitlines()[-lines:]
            print(f"\n--- last lines of {path.name}:\n" + "\n".join(text), file=sys.stderr)


def _interrupted(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.rehearsal", description=__doc__)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupted)
    tmp = Path(tempfile.mkdtemp(prefix="alc-prod-check-"))
    rehearsal = Rehearsal(tmp)
    started = time.monotonic()
    status = 0
    try:
        rehearsal.run()
    except (Failed, ServerError, AssertionError) as exc:
        print(f"\nFAILED: {exc}", file=sys.stderr, flush=True)
        status = 1
    except KeyboardInterrupt:
        print("\nInterrupted.", file=sys.stderr, flush=True)
        status = 130
    except Exception:  # noqa: BLE001 - report it, then clean up
        traceback.print_exc()
        status = 1
    finally:
        if status:
            rehearsal.log_tails()
        print("\n==> stopping everything", flush=True)
        left = rehearsal.stop_everything()
        if left:
            print("FAILED to stop cleanly: " + "; ".join(left), file=sys.stderr)
            status = status or 1
        else:
            print("    every process the rehearsal started has stopped", flush=True)
        if args.keep or status:
            print(f"    files kept in {tmp}", flush=True)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print("\n==> stage timings")
    for name, took in rehearsal.timings:
        print(f"    {took:7.1f} s  {name}")
    print(f"    {time.monotonic() - started:7.1f} s  in all")
    for finding in rehearsal.findings:
        print(f"    note: {finding}")
    print("\nprod-check " + ("PASSED" if status == 0 else "FAILED"), flush=True)
    return status
