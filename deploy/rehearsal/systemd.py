"""The parts of systemd the rehearsal needs, so that it runs the units in deploy/systemd as they
are shipped: their ExecStart, WorkingDirectory, Environment= and EnvironmentFile= (with systemd's
specifiers %i, %H..., and $VAR / ${VAR} expansion), Type=notify readiness, Restart=on-failure,
KillMode= and TimeoutStopSec=.

Production paths in the units (/srv/alc-portal/app, /srv/alc-portal/venv, /etc/alc-portal/env)
are mapped to this checkout, its virtualenv and the rehearsal's own files.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import signal
import socket
import subprocess
import threading
import time
import uuid
from pathlib import Path

# What systemd gives every service before Environment= and EnvironmentFile=.
BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# Exit by these signals is a clean stop for Restart=on-failure.
CLEAN_SIGNALS = {signal.SIGHUP, signal.SIGINT, signal.SIGTERM, signal.SIGPIPE}


class UnitError(RuntimeError):
    pass


def parse_unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """A unit file as {section: {key: [values, in order]}}. An empty assignment resets the list,
    as in systemd; a trailing backslash continues a line."""
    sections: dict[str, dict[str, list[str]]] = {}
    current = None
    pending = ""
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = pending + raw.strip() if pending else raw.strip()
        pending = ""
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        if current is None or "=" not in line:
            raise UnitError(f"{path.name}:{number}: not a section or KEY=VALUE: {raw!r}")
        key, value = (part.strip() for part in line.split("=", 1))
        if value:
            current.setdefault(key, []).append(value)
        else:
            current[key] = []
    return sections


def parse_environment_file(path: Path) -> dict[str, str]:
    """An EnvironmentFile= the way systemd reads it: KEY=VALUE lines, # or ; comments, values
    in single or double quotes (backslash escapes inside double quotes), no expansion."""
    values = {}
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key):
            raise UnitError(f"{path}:{number}: not KEY=VALUE: {raw!r}")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == "'":
            value = value[1:-1]
        elif len(value) >= 2 and value[0] == value[-1] == '"':
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        values[key] = value
    return values


def expand_specifiers(text: str, specifiers: dict[str, str]) -> str:
    def one(match):
        letter = match.group(1)
        if letter == "%":
            return "%"
        if letter not in specifiers:
            raise UnitError(f"unsupported specifier %{letter} in {text!r}")
        return specifiers[letter]

    return re.sub(r"%(.)", one, text)


def expand_command(line: str, env: dict[str, str]) -> list[str]:
    """An Exec*= line as argv: its prefixes (-@:+!) dropped, split like systemd, `$VAR` as a
    whole word split on white space, `${VAR}` inside a word replaced."""
    line = line.lstrip("-@:+!")
    argv = []
    for word in shlex.split(line):
        whole = re.fullmatch(r"\$([A-Za-z_][A-Za-z0-9_]*)", word)
        if whole:
            argv += env.get(whole.group(1), "").split()
            continue
        argv.append(
            re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", lambda m: env.get(m.group(1), ""), word)
        )
    return argv


def _seconds(value: str) -> float:
    """A systemd time span: 90, 90s, 5min, 1h, 500ms."""
    total = 0.0
    units = {"ms": 0.001, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "": 1}
    for number, unit in re.findall(r"([\d.]+)\s*([a-z]*)", value):
        total += float(number) * units[unit]
    return total


class Unit:
    """One unit file (an instance of it, for a template), with production paths mapped."""

    def __init__(self, path: Path, *, instance: str = "", paths: dict[str, str] | None = None):
        self.path = path
        self.instance = instance
        self.name = path.name.replace("@.", f"@{instance}.") if instance else path.name
        self.sections = parse_unit(path)
        self.paths = sorted((paths or {}).items(), key=lambda item: -len(item[0]))
        self.specifiers = {
            "i": instance,
            "I": instance,
            "H": socket.gethostname(),
            "n": self.name,
            "N": self.name.rsplit(".", 1)[0],
            "p": self.name.split("@")[0].rsplit(".", 1)[0],
        }

    def values(self, key: str, section: str = "Service") -> list[str]:
        return [
            self.map_path(expand_specifiers(value, self.specifiers))
            for value in self.sections.get(section, {}).get(key, [])
        ]

    def value(self, key: str, default: str = "", section: str = "Service") -> str:
        values = self.values(key, section)
        return values[-1] if values else default

    def map_path(self, text: str) -> str:
        for production, here in self.paths:
            text = text.replace(production, here)
        return text

    def environment(self) -> dict[str, str]:
        """The environment systemd would give the service: its basics, then Environment=,
        then each EnvironmentFile= (which wins)."""
        env = {
            "PATH": BASE_PATH,
            "LANG": "C.UTF-8",
            "HOME": os.environ.get("HOME", "/"),
            "USER": os.environ.get("USER", "root"),
            "LOGNAME": os.environ.get("USER", "root"),
            "INVOCATION_ID": uuid.uuid4().hex,
        }
        for line in self.values("Environment"):
            for assignment in shlex.split(line):
                key, _, value = assignment.partition("=")
                env[key] = value
        for name in self.values("EnvironmentFile"):
            optional = name.startswith("-")
            path = Path(name.lstrip("-"))
            if path.exists():
                env.update(parse_environment_file(path))
            elif not optional:
                raise UnitError(f"{self.name}: EnvironmentFile {path} does not exist")
        return env

    def command(self, env: dict[str, str], key: str = "ExecStart") -> list[str]:
        lines = self.values(key)
        if len(lines) != 1:
            raise UnitError(f"{self.name}: expected one {key}=, found {len(lines)}")
        return expand_command(lines[0], env)

    @property
    def restart(self) -> str:
        return self.value("Restart", "no")

    @property
    def restart_sec(self) -> float:
        return _seconds(self.value("RestartSec", "100ms"))

    @property
    def stop_timeout(self) -> float:
        return _seconds(self.value("TimeoutStopSec", "90s"))


class Service:
    """A unit's main process, run and supervised as systemd would: in its own process group
    (standing in for the unit's cgroup), restarted after RestartSec= when Restart=on-failure
    and it fails, stopped with SIGTERM (to the main process only with KillMode=mixed) then
    SIGKILL to the whole group after TimeoutStopSec=."""

    def __init__(self, unit: Unit, *, run_dir: Path, log_dir: Path, extra_env=None, label=""):
        self.unit = unit
        # Two instances of one unit (as on two hosts) need a label each for their files.
        self.label = label or unit.name
        self.run_dir = run_dir
        self.log_path = log_dir / f"{self.label}.log"
        self.extra_env = dict(extra_env or {})
        self.proc: subprocess.Popen | None = None
        self.restarts: list[tuple[float, str]] = []  # (time, why)
        self.pids_seen: dict[int, float] = {}  # pid: its start time, every process it had
        self._stopping = False
        self._lock = threading.Lock()
        self._watcher: threading.Thread | None = None
        self._notify: socket.socket | None = None
        self.ready = threading.Event()

    # -- starting -------------------------------------------------------------------------

    def environment(self) -> dict[str, str]:
        env = self.unit.environment()
        env.update(self.extra_env)
        runtime = self.unit.value("RuntimeDirectory")
        if runtime:
            directory = self.run_dir / "runtime" / self.label
            directory.mkdir(parents=True, exist_ok=True)
            env["RUNTIME_DIRECTORY"] = str(directory)
        return env

    def start(self, timeout: float = 120) -> Service:
        self._stopping = False
        self._spawn()
        if self._watcher is None:
            self._watcher = threading.Thread(target=self._watch, daemon=True)
            self._watcher.start()
        if self.unit.value("Type", "simple") == "notify":
            self.wait_ready(timeout)
        return self

    def _spawn(self) -> None:
        env = self.environment()
        self.ready.clear()
        if self.unit.value("Type", "simple") == "notify":
            self._notify_listen(env)
        argv = self.unit.command(env)
        cwd = self.unit.value("WorkingDirectory") or "/"
        umask = int(self.unit.value("UMask", "0022"), 8)
        with open(self.log_path, "a") as log:
            log.write(f"--- {time.strftime('%H:%M:%S')} starting: {shlex.join(argv)}\n")
            log.flush()
            self.proc = subprocess.Popen(
                argv,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                umask=umask,
            )
        self._note_pids()

    def _notify_listen(self, env: dict[str, str]) -> None:
        path = self.run_dir / "notify" / f"{self.label}.sock"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        if self._notify is not None:
            self._notify.close()
        self._notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._notify.bind(str(path))
        self._notify.settimeout(0.5)
        env["NOTIFY_SOCKET"] = str(path)

    def wait_ready(self, timeout: float) -> None:
        """Type=notify: wait for READY=1 on the notify socket, as systemd does."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None and not self._restart_pending():
                raise UnitError(
                    f"{self.label} exited ({self.proc.returncode}); see {self.log_path}"
                )
            try:
                message = self._notify.recv(4096).decode()
            except (TimeoutError, OSError):
                continue
            if "READY=1" in message.split("\n"):
                self.ready.set()
                return
        raise UnitError(f"{self.label} sent no READY=1 within {timeout:.0f} s; see {self.log_path}")

    def _restart_pending(self) -> bool:
        return self.unit.restart in ("on-failure", "always") and not self._stopping

    # -- supervising ----------------------------------------------------------------------

    def _watch(self) -> None:
        while True:
            with self._lock:
                if self._stopping or self.proc is None:
                    return
                code = self.proc.poll()
            if code is None:
                self._note_pids()
                time.sleep(0.3)
                continue
            failed = code > 0 or (code < 0 and signal.Signals(-code) not in CLEAN_SIGNALS)
            if not (
                self.unit.restart == "always" or (self.unit.restart == "on-failure" and failed)
            ):
                return
            # systemd stops what is left of the unit's processes before restarting it.
            self._kill_group(signal.SIGKILL)
            why = f"exit status {code}" if code > 0 else f"signal {signal.Signals(-code).name}"
            time.sleep(self.unit.restart_sec)
            with self._lock:
                if self._stopping:
                    return
                self.restarts.append((time.time(), why))
                self._spawn()
            if self.unit.value("Type", "simple") == "notify":
                # If it never gets ready, the next turn sees it exit (or it stays not ready).
                with contextlib.suppress(UnitError):
                    self.wait_ready(120)

    def _note_pids(self) -> None:
        import psutil

        try:
            parent = psutil.Process(self.proc.pid)
            for proc in [parent, *parent.children(recursive=True)]:
                self.pids_seen.setdefault(proc.pid, proc.create_time())
        except psutil.Error:
            pass  # it has just ended

    def log_size(self) -> int:
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def log_has(self, text: str, offset: int = 0) -> bool:
        """Whether the unit's output after `offset` bytes contains `text` (journalctl -u)."""
        if not self.log_path.exists():
            return False
        with open(self.log_path, "rb") as log:
            log.seek(offset)
            return text.encode() in log.read()

    def assert_alive(self) -> bool:
        """False while the main process runs (or is about to be restarted); raises if it ended
        for good."""
        if self.alive() or self._restart_pending():
            return False
        raise UnitError(f"{self.label} exited ({self.proc.returncode}); see {self.log_path}")

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    # -- stopping -------------------------------------------------------------------------

    def _kill_group(self, sig) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)

    def kill(self, sig=signal.SIGKILL) -> None:
        """`systemctl kill --signal=SIG`: every process of the unit; Restart= then applies."""
        self._kill_group(sig)

    def stop(self, timeout: float | None = None) -> None:
        """`systemctl stop`: SIGTERM, then SIGKILL to everything left after TimeoutStopSec=."""
        with self._lock:
            self._stopping = True
        if self.proc is None:
            return
        timeout = self.unit.stop_timeout if timeout is None else timeout
        if self.proc.poll() is None:
            if self.unit.value("KillMode", "control-group") == "mixed":
                self.proc.send_signal(signal.SIGTERM)
            else:
                self._kill_group(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=timeout)
        self._kill_group(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)
        if self._notify is not None:
            self._notify.close()
            self._notify = None

    def leftovers(self) -> list[int]:
        """Processes of this unit still alive (its group, or any pid it ever had)."""
        import psutil

        left = []
        for pid, started in self.pids_seen.items():
            try:
                proc = psutil.Process(pid)
                if proc.create_time() == started and proc.status() != psutil.STATUS_ZOMBIE:
                    left.append(pid)
            except psutil.Error:
                continue
        return left

    def run_to_end(self, timeout: float) -> int:
        """Type=oneshot: run the command and return its exit status."""
        self._stopping = True  # no restarts
        self._spawn()
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._kill_group(signal.SIGKILL)
            self.proc.wait()
            raise UnitError(f"{self.label} did not finish within {timeout:.0f} s") from None
