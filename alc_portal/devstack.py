"""The `make run` supervisor: prepare the database, then run the whole portal in one terminal.

Run it under the embedded-services launcher, which provides DATABASE_URL and REDIS_URL:

    python -m alc_portal.embedded -- python -m alc_portal.devstack

It migrates the database, loads the councils, the demo data and the demo events (and collects
static files when DEBUG is off), then runs and watches these processes, prefixing their output
with their name:

    web     Django's development server on http://127.0.0.1:8000
    worker  a Celery worker
    beat    Celery beat with the database scheduler
    mail    the mail catcher on 127.0.0.1:1025, saving messages to var/mail

Outgoing mail goes to the catcher unless EMAIL_URL or EMAIL_HOST is already set. If any process
exits, everything is stopped and the exit status is non-zero. Ctrl-C or SIGTERM stops every
process (SIGTERM, then SIGKILL after 10 seconds; a second Ctrl-C kills at once) and exits 0.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from alc_portal.ports import port_is_free

PROJECT_DIR = Path(__file__).resolve().parent.parent
MANAGE = str(PROJECT_DIR / "manage.py")
STOP_TIMEOUT = 10.0
_COLOURS = {"web": "32", "worker": "36", "beat": "35", "mail": "33"}


class StopRequested(Exception):
    """Ctrl-C or SIGTERM while preparing."""


def _say(message: str) -> None:
    print(f"devstack: {message}", file=sys.stderr, flush=True)


def _debug_enabled() -> bool:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alc_portal.settings")
    from django.conf import settings

    return bool(settings.DEBUG)


def _var_dir() -> Path:
    return Path(os.environ.get("ALC_VAR_DIR") or PROJECT_DIR / "var")


class Child:
    """A supervised process in its own process group, its output prefixed with its name."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], width: int, lock):
        self.name = name
        self.args = args
        label = f"{name:<{width}} |"
        if sys.stdout.isatty() and name in _COLOURS:
            label = f"\033[{_COLOURS[name]}m{label}\033[0m"
        self._prefix = f"{label} ".encode()
        self._output_lock = lock
        self.process = subprocess.Popen(
            args,
            cwd=PROJECT_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            process_group=0,  # Ctrl-C reaches only the supervisor, which stops us in order
        )
        self._reader = threading.Thread(target=self._copy_output, daemon=True)
        self._reader.start()

    def _copy_output(self) -> None:
        out = sys.stdout.buffer
        assert self.process.stdout is not None
        for line in iter(self.process.stdout.readline, b""):
            with self._output_lock:
                out.write(self._prefix + line.rstrip(b"\r\n") + b"\n")
                out.flush()

    def poll(self) -> int | None:
        return self.process.poll()

    def signal_group(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, sig)

    def group_alive(self) -> bool:
        """Is any process of the group still running? (Zombies awaiting reaping do not count.)"""
        import psutil

        self.process.poll()  # reap the leader
        try:
            os.killpg(self.process.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        for proc in psutil.process_iter(["status"]):
            try:
                if (
                    os.getpgid(proc.pid) == self.process.pid
                    and proc.info["status"] != psutil.STATUS_ZOMBIE
                ):
                    return True
            except (ProcessLookupError, psutil.Error):
                continue
        return False

    def finish(self) -> None:
        self.process.wait()
        self._reader.join(timeout=2)


class Supervisor:
    def __init__(self, host: str, port: int, mail_port: int):
        self.host = host
        self.port = port
        self.mail_port = mail_port
        self.children: list[Child] = []
        self.preparing = True
        self.stop_requested = threading.Event()
        self.signals_received = 0
        self._first_signal_at = 0.0
        self._output_lock = threading.Lock()

    # -- signals ---------------------------------------------------------------------------

    def _on_signal(self, signum, frame) -> None:
        now = time.monotonic()
        if self.signals_received and now - self._first_signal_at < 1.0:
            # The same interrupt delivered twice (to our process group and forwarded by the
            # launcher); only a later, deliberate one means "kill now".
            return
        if not self.signals_received:
            self._first_signal_at = now
        self.signals_received += 1
        self.stop_requested.set()
        if self.signals_received > 1 and self.children:
            _say("second interrupt: killing everything now")
            for child in self.children:
                child.signal_group(signal.SIGKILL)
        if self.preparing and self.signals_received == 1:
            raise StopRequested

    def install_signal_handlers(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, self._on_signal)

    # -- preparing -------------------------------------------------------------------------

    def child_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONUNBUFFERED"] = "1"
        # Links in emails (invitations, unsubscribe) must reach this server, whatever its port.
        env.setdefault("PORTAL_URL", f"http://{self.host}:{self.port}")
        if not env.get("EMAIL_URL") and not env.get("EMAIL_HOST"):
            env["EMAIL_URL"] = f"smtp://127.0.0.1:{self.mail_port}"
            env["EMAIL_HOST"] = "127.0.0.1"
            env["EMAIL_PORT"] = str(self.mail_port)
        return env

    def check_ports(self) -> bool:
        ok = True
        for port, what in ((self.port, "the web server"), (self.mail_port, "the mail catcher")):
            if not port_is_free(self.host, port):
                _say(
                    f"port {self.host}:{port} for {what} is already in use "
                    "(is another `make run` still running?). Stop whatever uses it and retry."
                )
                ok = False
        return ok

    def manage(self, *args: str) -> None:
        command = [sys.executable, MANAGE, *args]
        _say(f"running manage.py {' '.join(args)}")
        code = subprocess.call(command, cwd=PROJECT_DIR, env=self.child_env())
        if code != 0:
            raise SystemExit(f"devstack: `manage.py {' '.join(args)}` failed (exit code {code})")

    def prepare(self) -> None:
        self.manage("migrate", "--noinput")
        self.manage("load_councils")
        self.manage("demo_data")
        self.manage("demo_events")
        if not _debug_enabled():
            self.manage("collectstatic", "--noinput")

    # -- running ---------------------------------------------------------------------------

    def commands(self) -> dict[str, list[str]]:
        python = sys.executable
        celery = [python, "-m", "celery", "-A", "alc_portal"]
        mail_dir = str(_var_dir() / "mail")
        return {
            "mail": [python, "-m", "alc_portal.mailcatcher", "--host", "127.0.0.1",
                     "--port", str(self.mail_port), "--dir", mail_dir],
            "worker": [*celery, "worker", "-l", "info", "--concurrency", "2"],
            "beat": [*celery, "beat", "-l", "info",
                     "--scheduler", "django_celery_beat.schedulers:DatabaseScheduler"],
            "web": [python, MANAGE, "runserver", f"{self.host}:{self.port}", "--noreload"],
        }  # fmt: skip

    def start_children(self) -> None:
        env = self.child_env()
        commands = self.commands()
        width = max(len(name) for name in commands)
        for name, args in commands.items():
            if self.stop_requested.is_set():
                return
            self.children.append(Child(name, args, env, width, self._output_lock))
        _say(f"the portal is on http://{self.host}:{self.port}/ (Ctrl-C stops everything)")

    def watch(self) -> Child | None:
        """Wait until a stop is requested (None) or a child exits (that child)."""
        while not self.stop_requested.wait(0.2):
            for child in self.children:
                if child.poll() is not None:
                    return child
        return None

    def stop_children(self) -> None:
        for child in self.children:
            child.signal_group(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        while time.monotonic() < deadline and any(c.group_alive() for c in self.children):
            time.sleep(0.1)
        for child in self.children:
            if child.group_alive():
                _say(f"{child.name} did not stop within {STOP_TIMEOUT:.0f} s: killing it")
                child.signal_group(signal.SIGKILL)
        for child in self.children:
            child.finish()

    def run(self) -> int:
        self.install_signal_handlers()
        if not self.check_ports():
            return 1
        try:
            self.prepare()
            self.preparing = False  # from here on a signal only sets stop_requested
        except StopRequested:
            self.preparing = False
            _say("interrupted while preparing")
            return 0
        if not self.check_ports():
            return 1
        self.start_children()
        failed = self.watch()
        if failed is not None:
            _say(f"{failed.name} exited with code {failed.poll()}: stopping everything")
        else:
            _say("stopping")
        self.stop_children()
        return 1 if failed is not None else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m alc_portal.devstack",
        description="Prepare the database and run web, Celery worker and beat and a mail catcher.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000, help="web server port")
    parser.add_argument("--mail-port", type=int, default=1025, help="mail catcher port")
    args = parser.parse_args(argv)
    for name in ("DATABASE_URL", "REDIS_URL"):
        if not os.environ.get(name):
            _say(f"{name} is not set; run me as `python -m alc_portal.embedded -- {parser.prog}`")
            return 2
    return Supervisor(args.host, args.port, args.mail_port).run()


if __name__ == "__main__":
    sys.exit(main())
