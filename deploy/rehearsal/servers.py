"""Debian's own servers for the rehearsal, each in a temporary folder on free loopback ports:
PostgreSQL 15 (initdb + pg_ctl), redis-server with deploy/redis.conf, nginx with the site in
deploy/nginx, Postfix's smtp-sink, and a self-signed certificate from openssl. Nothing here
touches the system's own services or their files."""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import time
from collections import Counter
from pathlib import Path

PG_BIN = Path("/usr/lib/postgresql/15/bin")
# The programs the rehearsal runs, and the Debian package of each.
PACKAGES = {
    str(PG_BIN / "initdb"): "postgresql-15",
    "/usr/bin/pg_dump": "postgresql-client-15",
    "/usr/bin/redis-server": "redis-server",
    "/usr/sbin/nginx": "nginx",
    "/usr/sbin/smtp-sink": "postfix",
    "/usr/bin/openssl": "openssl",
}
LOOPBACK = "127.0.0.1"


class ServerError(RuntimeError):
    pass


def packages_ensure() -> list[str]:
    """Install the Debian packages whose programs are missing (as root, with apt), Postfix
    without any configuration, so that no mail system is set up or started. Returns what was
    installed."""
    missing = sorted({pkg for path, pkg in PACKAGES.items() if not os.access(path, os.X_OK)})
    if not missing:
        return []
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise ServerError(f"install these Debian packages first: {' '.join(missing)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if "postfix" in missing:
        subprocess.run(
            ["debconf-set-selections"],
            input="postfix postfix/main_mailer_type select No configuration\n",
            text=True,
            check=True,
        )
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    return missing


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def listening(port: int) -> bool:
    try:
        with socket.create_connection((LOOPBACK, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_for(condition, timeout: float, what: str, interval: float = 0.2):
    """Poll `condition` until it returns something true; raise after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise ServerError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def service_user() -> str:
    """The unprivileged account servers that refuse root run as: Debian's postgres, or nobody."""
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise ServerError("no unprivileged user (postgres or nobody) to run PostgreSQL as")


def give(path: Path, user: str) -> None:
    if os.geteuid() == 0:
        shutil.chown(path, user, pwd.getpwnam(user).pw_gid)


def _pid_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class Postgres:
    """A PostgreSQL 15 cluster in `directory`: local socket connections are trusted (for the
    superuser work an administrator does with `sudo -u postgres`), TCP ones need a password,
    as the portal's DATABASE_URL gives."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.data = directory / "data"
        self.socket_dir = directory / "socket"
        self.log = directory / "postgres.log"
        self.port = free_port()
        self.user = service_user() if os.geteuid() == 0 else None

    def _run(self, args, **kwargs):
        if self.user:
            kwargs["user"] = self.user
        # Output to a file, never a pipe: the server pg_ctl starts would hold the pipe open.
        with open(self.directory / "commands.log", "a") as out:
            return subprocess.run(args, stdout=out, stderr=subprocess.STDOUT, check=True, **kwargs)

    def start(self) -> Postgres:
        self.directory.mkdir(parents=True, exist_ok=True)
        for path in (self.directory, self.socket_dir):
            path.mkdir(exist_ok=True)
            give(path, self.user or pwd.getpwuid(os.geteuid()).pw_name)
        self.directory.chmod(0o755)
        self._run(
            [PG_BIN / "initdb", "-D", self.data, "-U", "postgres", "--auth-local=trust",
             "--auth-host=scram-sha-256", "--encoding=UTF8", "--locale=C.UTF-8"]
        )  # fmt: skip
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(
                f"port = {self.port}\nlisten_addresses = '{LOOPBACK}'\n"
                f"unix_socket_directories = '{self.socket_dir}'\nmax_connections = 200\n"
            )
        self.pg_ctl("start")
        return self

    def pg_ctl(self, action: str) -> None:
        args = [PG_BIN / "pg_ctl", action, "-D", self.data, "-w", "-t", "120"]
        if action in ("start", "restart"):
            args += ["-l", self.log]
        if action in ("stop", "restart"):
            args += ["-m", "fast"]
        self._run(args)

    def running_pid(self) -> int | None:
        try:
            pid = int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None
        return None if _pid_gone(pid) else pid

    def stop(self) -> None:
        pid = self.running_pid()
        if pid is None:
            return
        try:
            self.pg_ctl("stop")
        except subprocess.CalledProcessError:
            os.kill(pid, signal.SIGQUIT)
        wait_for(lambda: _pid_gone(pid), 60, "PostgreSQL to stop")

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run SQL as the superuser over the local socket; returns unaligned output."""
        args = [PG_BIN / "psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1",
                "-h", self.socket_dir, "-p", str(self.port), "-U", "postgres", "-d", database,
                "-c", sql]  # fmt: skip
        result = subprocess.run(
            [str(a) for a in args], capture_output=True, text=True, user=self.user
        )
        if result.returncode:
            raise ServerError(f"psql failed: {result.stderr.strip()}")
        return result.stdout.strip()

    def url(self, user: str, password: str, database: str) -> str:
        return f"postgres://{user}:{password}@{LOOPBACK}:{self.port}/{database}"


class Redis:
    """redis-server with deploy/redis.conf as shipped, plus only what must differ here: the port,
    the data folder, the pid and log files, and running in the foreground."""

    def __init__(self, directory: Path, config: Path):
        self.directory = directory
        self.config = config
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    def command(self) -> list[str]:
        return [
            "redis-server", str(self.config), "--port", str(self.port),
            "--dir", str(self.directory), "--pidfile", str(self.directory / "redis.pid"),
            "--logfile", str(self.directory / "redis.log"),
            "--daemonize", "no", "--supervised", "no",
        ]  # fmt: skip

    def start(self) -> Redis:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            self.command(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        wait_for(self.ping, 60, "Redis to answer")
        return self

    def client(self, db: int = 0):
        import redis

        return redis.Redis(host=LOOPBACK, port=self.port, db=db, socket_timeout=5)

    def ping(self) -> bool:
        import redis

        if self.proc is None or self.proc.poll() is not None:
            return False
        try:
            return bool(self.client().ping())
        except redis.RedisError:
            return False

    def config_get(self, name: str) -> str:
        return self.client().config_get(name)[name]

    def stop(self) -> None:
        """As `systemctl stop redis-server` does: SIGTERM, Redis writes its files and exits."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def url(self, db: int = 0) -> str:
        return f"redis://{LOOPBACK}:{self.port}/{db}"


def certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost (and 127.0.0.1), valid for two days."""
    cert, key = directory / "localhost.crt", directory / "localhost.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


class Nginx:
    """nginx serving deploy/nginx/alc-portal.conf as shipped, except for what only a real server
    has: the host name becomes localhost, the ports free loopback ones, the certificate the
    rehearsal's, and the upstream the gunicorns it runs."""

    def __init__(self, directory: Path, site: Path, cert: Path, key: Path):
        self.directory = directory
        self.site = site
        self.cert, self.key = cert, key
        self.http_port, self.https_port = free_port(), free_port()
        self.proc: subprocess.Popen | None = None
        self.conf = directory / "nginx.conf"

    def site_config(self, upstreams: list[str]) -> str:
        text = self.site.read_text()
        replacements = [
            (r"server_name portal\.alc\.example\.org;", "server_name localhost;"),
            (r"listen \[::\]:[^;]*;\n\s*", ""),
            (r"listen 80( default_server)?;", rf"listen {LOOPBACK}:{self.http_port}\1;"),
            (r"listen 443 ssl( http2)?( default_server)?;",
             rf"listen {LOOPBACK}:{self.https_port} ssl\1\2;"),
            (r"ssl_certificate /etc/letsencrypt/\S+;", f"ssl_certificate {self.cert};"),
            (r"ssl_certificate_key /etc/letsencrypt/\S+;", f"ssl_certificate_key {self.key};"),
            (r"root /var/www/html;", f"root {self.directory};"),
        ]  # fmt: skip
        for pattern, replacement in replacements:
            text, count = re.subn(pattern, replacement, text)
            if not count:
                raise ServerError(f"{self.site.name}: expected {pattern!r} in the shipped site")
        # The upstream's one active server line, repeated for each gunicorn.
        match = re.search(r"^(\s*)server 127\.0\.0\.1:8000( [^;]*)?;\n", text, re.MULTILINE)
        if not match:
            raise ServerError(f"{self.site.name}: no `server 127.0.0.1:8000` in its upstream")
        lines = "".join(f"{match.group(1)}server {up}{match.group(2) or ''};\n" for up in upstreams)
        return text[: match.start()] + lines + text[match.end() :]

    def write(self, upstreams: list[str]) -> None:
        d = self.directory
        for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (d / sub).mkdir(parents=True, exist_ok=True)
            if os.geteuid() == 0:
                give(d / sub, "nobody")
        (d / "site.conf").write_text(self.site_config(upstreams))
        user = "user nobody nogroup;\n" if os.geteuid() == 0 else ""
        self.conf.write_text(
            f"{user}worker_processes 2;\ndaemon off;\npid {d}/nginx.pid;\n"
            f"error_log {d}/error.log info;\nevents {{ worker_connections 512; }}\n"
            "http {\n    include /etc/nginx/mime.types;\n"
            "    default_type application/octet-stream;\n    sendfile on;\n"
            f"    access_log {d}/access.log;\n    client_body_temp_path {d}/client_body;\n"
            f"    proxy_temp_path {d}/proxy;\n    fastcgi_temp_path {d}/fastcgi;\n"
            f"    uwsgi_temp_path {d}/uwsgi;\n    scgi_temp_path {d}/scgi;\n"
            f"    include {d}/site.conf;\n}}\n"
        )
        check = subprocess.run(
            ["nginx", "-t", "-q", "-c", str(self.conf), "-e", str(d / "error.log")],
            capture_output=True, text=True,
        )  # fmt: skip
        if check.returncode:
            raise ServerError(f"nginx -t refused the site: {check.stderr.strip()}")

    def start(self, upstreams: list[str]) -> Nginx:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.write(upstreams)
        self.proc = subprocess.Popen(
            ["nginx", "-c", str(self.conf), "-e", str(self.directory / "error.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        wait_for(lambda: listening(self.https_port) and listening(self.http_port), 30, "nginx")
        return self

    def reload(self, upstreams: list[str]) -> None:
        """`systemctl reload nginx` after changing the site: new workers with the new config."""
        self.write(upstreams)
        self.proc.send_signal(signal.SIGHUP)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGQUIT)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    @property
    def base(self) -> str:
        return f"https://localhost:{self.https_port}"


class SmtpSink:
    """Postfix's smtp-sink on a free loopback port, writing each message it accepts to a file
    (with the envelope's RCPT TO as X-Rcpt-Args lines), so that what arrived can be counted."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    def start(self) -> SmtpSink:
        self.directory.mkdir(parents=True, exist_ok=True)
        command = ["/usr/sbin/smtp-sink", "-d", f"{self.directory}/msg."]
        if os.geteuid() == 0:
            give(self.directory, "nobody")
            command += ["-u", "nobody"]  # smtp-sink refuses to run as root
        self.proc = subprocess.Popen(
            [*command, f"{LOOPBACK}:{self.port}", "256"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        wait_for(lambda: listening(self.port), 30, "smtp-sink")
        return self

    def arrivals(self) -> list[tuple[float, str]]:
        """(when, address) of every message received so far, oldest first."""
        found = []
        for path in self.directory.glob("msg.*"):
            with open(path, errors="replace") as message:
                for line in message:
                    if line.startswith("X-Rcpt-Args:"):
                        address = re.search(r"<([^>]*)>", line)
                        address = address.group(1) if address else line.split(":", 1)[1]
                        found.append((path.stat().st_mtime, address.strip().lower()))
                    elif line.startswith("Received:") or not line.strip():
                        break
        return sorted(found)

    def recipients(self) -> Counter:
        """How many messages each address received so far."""
        return Counter(address for _, address in self.arrivals())

    def count(self) -> int:
        return sum(1 for _ in self.directory.glob("msg.*"))

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
