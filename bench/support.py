"""What the benchmarks share: production-like settings, a database of their own, free ports, and
sampling processes with py-spy."""

import collections
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent


def production_environment(**extra: str) -> None:
    """Settings as in production (DEBUG off: no query log kept in every process), with
    throwaway values, for this process and the ones it starts; what is set already stays."""
    for name, value in {
        "DEBUG": "0",
        "SECRET_KEY": "bench-" + secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": "localhost,127.0.0.1",
        "PORTAL_URL": "https://alc.example.org",
        "DEFAULT_FROM_EMAIL": "ALC Portal <portal@alc.example.org>",
        "DJANGO_SETTINGS_MODULE": "alc_portal.settings",
        **extra,
    }.items():
        os.environ.setdefault(name, value)


def bench_database_url(name: str) -> str:
    """A new, empty database `name` on the PostgreSQL server in DATABASE_URL (dropped first if
    a previous run left it); returns its URL."""
    url = urlsplit(os.environ["DATABASE_URL"])
    admin = urlunsplit(url._replace(path="/postgres"))
    import psycopg2

    conn = psycopg2.connect(admin)
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {name}")
        cursor.execute(f"CREATE DATABASE {name}")
    conn.close()
    return urlunsplit(url._replace(path=f"/{name}"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def profiler_start(pid: int, path: Path):
    return subprocess.Popen(
        [shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy"), "record",
         "--pid", str(pid), "--rate", "200", "--gil", "--format", "raw",
         "--output", str(path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def profile_summary(paths: list[Path], top: int = 25) -> str:
    """Where the sampled time went: each function's share of samples, inclusive and self."""
    inclusive, own = collections.Counter(), collections.Counter()
    total = 0
    for path in paths:
        if not path.exists():
            continue
        for line in path.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack:
                continue
            n = int(count)
            frames = [re.sub(r" \(.*?/(site-packages|lib/python3\.\d+)/", " (", f) for f in
                      stack.split(";")]  # fmt: skip
            total += n
            own[frames[-1]] += n
            for frame in set(frames):
                inclusive[frame] += n
    if not total:
        return "no samples"
    # Leave out the frames every sample shares (Celery's worker loop down to the task).
    shown = [(f, n) for f, n in inclusive.most_common() if n < 0.8 * total][:top]
    lines = [f"{total} samples; inclusive (below the task's own frame):"]
    lines += [f"  {100 * n / total:5.1f}%  {f}" for f, n in shown]
    lines.append("self:")
    lines += [f"  {100 * n / total:5.1f}%  {f}" for f, n in own.most_common(top)]
    return "\n".join(lines)
