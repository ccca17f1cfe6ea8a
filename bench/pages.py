"""Benchmark: the pages each role opens most, served as production serves them, against Django's
hello world under the same gunicorn settings.

    make bench-pages
    make bench-pages BENCH_PAGES_ARGS="--councillors 2400 --seconds 5 --runs 3 --profile DIR"
    # or: python -m alc_portal.embedded -- python bench/pages.py [options]

It makes its own database (alc_portal_bench_pages, on the PostgreSQL server in DATABASE_URL) with
the councils, the demo accounts, and `--councillors` London councillors imported from a CSV file
by the London representative, as the import page does. Then it starts:

- the portal under gunicorn with deploy/gunicorn.conf.py (two sync workers, DEBUG off), and a
  Celery worker, whose heartbeat /healthz needs;
- bench/hello.py (Django's hello world) under the same gunicorn settings: the baseline.

Each page is opened with the session cookie of the role that uses it (a session made as signing
in makes it, two-factor included). After a warm-up, wrk measures it for `--seconds` at one
connection (p50 and p99) and then at 16 connections (requests per second). The table gives each
page's share of the hello world's rate. Any response other than 200 fails the run.
`--profile DIR` samples the gunicorn workers with py-spy while the slowest page is under load at
16 connections, and prints where their time went.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from bench.support import (  # noqa: E402 - found through the paths above
    bench_database_url,
    free_port,
    production_environment,
    profile_summary,
    profiler_start,
)

# Static files collected as production does (the manifest the pages' links come from).
STATIC_ROOT = Path(os.environ.get("ALC_VAR_DIR") or ROOT / "var" / "bench") / "bench-pages-static"
production_environment(
    EMAIL_HOST="127.0.0.1", CELERY_TASK_DEFAULT_QUEUE="bench-pages", STATIC_ROOT=str(STATIC_ROOT)
)
BENCH_DB = "alc_portal_bench_pages"
WRK_SCRIPT = ROOT / "bench" / "wrk_status.lua"
GUNICORN_CONFIG = ROOT / "deploy" / "gunicorn.conf.py"
HELLO_APP = "django.core.wsgi:get_wsgi_application()"


@dataclass
class Page:
    label: str
    role: str | None  # whose session opens it: None for anonymous
    path: str


PAGES = [
    Page("/healthz", None, "/healthz"),
    Page("councillor home /", "councillor", "/"),
    Page("councillor profile", "councillor", "/profile/"),
    Page("councillor /regions/london/", "councillor", "/regions/london/"),
    Page("representative's London dashboard", "representative", "/regions/london/"),
    Page("staff /regions/national/", "staff", "/regions/national/"),
    Page("staff /regions/south-east/", "staff", "/regions/south-east/"),
    Page("staff /campaigns/mailings/", "staff", "/campaigns/mailings/"),
]
ACCOUNTS = {
    "councillor": "councillor@demo.alc.example.org",
    "representative": "rep.london@demo.alc.example.org",
    "staff": "staff@demo.alc.example.org",
}


# --- data -------------------------------------------------------------------------------------


def data_load(councillors: int) -> None:
    """The councils, the demo accounts, and `councillors` London councillors imported by the
    London representative."""
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, clear=True, verbosity=0)
    call_command("migrate", verbosity=0)
    call_command("load_councils", verbosity=0)
    call_command("demo_data", verbosity=0)
    if councillors:
        london_import(councillors)


def london_import(count: int) -> None:
    import csv
    import io

    from members.models import CouncillorImport, User
    from members.services.councillor_imports import (
        councillor_import_confirm,
        councillor_import_preview,
        councillor_import_run,
    )
    from regions.models import Council, Region

    london = Region.objects.get(slug="london")
    councils = list(Council.objects.current().filter(region=london).order_by("name"))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["full_name", "email", "council", "ward"])
    for n in range(count):
        council = councils[n % len(councils)]
        writer.writerow(
            [
                f"Bench Councillor {n}",
                f"cllr{n}@bench.example.org",
                council.gss_code,
                f"Ward {n % 17}",
            ]
        )
    imp = councillor_import_preview(
        region=london,
        uploaded_by=User.objects.get(email=ACCOUNTS["representative"]),
        filename="bench.csv",
        raw=out.getvalue().encode(),
    )
    errors = imp.report["counts"]["error"]
    assert not errors, f"the generated file has {errors} errors"
    imp = councillor_import_confirm(councillor_import=imp)
    if imp.status != CouncillorImport.Status.DONE:
        councillor_import_run(import_id=imp.pk)
    imp.refresh_from_db()
    assert imp.status == CouncillorImport.Status.DONE, imp.report.get("error")


def session_cookies() -> dict[str, str]:
    """A session cookie for each role, as signing in (with two-factor) leaves it."""
    from allauth.account.internal.flows.login import (
        _AUTHENTICATION_METHODS_USER_SESSION_KEY,
        AUTHENTICATION_METHODS_SESSION_KEY,
    )
    from allauth.mfa.utils import is_mfa_enabled
    from django.conf import settings
    from django.test import Client

    from members.models import User

    cookies = {}
    for role, email in ACCOUNTS.items():
        user = User.objects.get(email=email)
        client = Client()
        client.force_login(user)
        if is_mfa_enabled(user):
            session = client.session
            session[_AUTHENTICATION_METHODS_USER_SESSION_KEY] = str(user.pk)
            session[AUTHENTICATION_METHODS_SESSION_KEY] = [
                {"method": "mfa", "at": time.time(), "type": "totp"}
            ]
            session.save()
        cookies[role] = (
            f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
        )
    return cookies


# --- servers ----------------------------------------------------------------------------------


def gunicorn_start(app: str, log: Path, **env: str) -> tuple[subprocess.Popen, str]:
    """gunicorn with the production settings file, two sync workers, on a free port."""
    port = free_port()
    environment = {**os.environ, "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": "2",
                   **env}  # fmt: skip
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", str(GUNICORN_CONFIG), app],
            cwd=ROOT, env=environment, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while not _answers(base + "/"):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"gunicorn did not start; see {log}")
        time.sleep(0.2)
    return proc, base


def _answers(url: str) -> bool:
    """Whether the server at `url` answers HTTP (any status)."""
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, headers={"X-Forwarded-Proto": "https"})
    try:
        urllib.request.urlopen(request, timeout=2).close()
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
    return True


def gunicorn_workers(proc: subprocess.Popen) -> list[int]:
    import psutil

    return [child.pid for child in psutil.Process(proc.pid).children()]


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- load -------------------------------------------------------------------------------------


@dataclass
class Run:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    wrong: int


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def wrk(url: str, *, connections: int, seconds: float, cookie: str | None) -> Run:
    threads = min(connections, 2)
    command = [shutil.which("wrk") or "wrk", f"-t{threads}", f"-c{connections}",
               f"-d{max(1, round(seconds))}s", "--latency", "-s", str(WRK_SCRIPT),
               "-H", "X-Forwarded-Proto: https"]  # fmt: skip
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    output = subprocess.run(
        [*command, url], capture_output=True, text=True, check=True, timeout=seconds + 60
    ).stdout

    def latency(percent: str) -> float:
        found = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.M)
        if found is None:
            raise RuntimeError(f"wrk gave no {percent}th percentile for {url}:\n{output}")
        value, unit = found.groups()
        return float(value) * UNITS[unit]

    return Run(
        requests_per_second=float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        p50_ms=latency("50"),
        p99_ms=latency("99"),
        wrong=int(re.search(r"^not-200: (\d+)$", output, re.M).group(1)),
    )


@dataclass
class Measured:
    label: str
    single: Run
    many: Run


def measure(label: str, url: str, cookie: str | None, seconds: float) -> Measured:
    # Warm up: both workers' caches, connections and lazily imported code.
    wrk(url, connections=4, seconds=max(1, seconds // 3), cookie=cookie)
    single = wrk(url, connections=1, seconds=seconds, cookie=cookie)
    many = wrk(url, connections=16, seconds=seconds, cookie=cookie)
    return Measured(label, single, many)


def table(rows: list[Measured], hello: Measured) -> str:
    base = hello.many.requests_per_second
    lines = [
        "| page | 1 connection: p50 | p99 | 16 connections: requests/s | share of hello-world |",
        "|---|---:|---:|---:|---:|",
    ]
    for row in [hello, *rows]:
        lines.append(
            f"| {row.label} | {row.single.p50_ms:.2f} ms | {row.single.p99_ms:.2f} ms | "
            f"{row.many.requests_per_second:,.0f} | "
            f"{100 * row.many.requests_per_second / base:.1f} % |"
        )
    return "\n".join(lines)


# --- main -------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--councillors", type=int, default=2400)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=1, help="measure every page this many times")
    parser.add_argument("--profile", type=Path, help="py-spy the slowest page; summaries go here")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("bench/pages.py needs wrk (Debian: apt-get install wrk)")

    database_url = bench_database_url(BENCH_DB)
    os.environ["DATABASE_URL"] = database_url
    import django

    django.setup()
    start = time.perf_counter()
    data_load(args.councillors)
    cookies = session_cookies()
    from django.db import connection

    connection.close()
    print(f"data: councils, demo accounts and {args.councillors:,} London councillors "
          f"({time.perf_counter() - start:.0f} s)")  # fmt: skip

    from workers import worker_start, worker_stop

    logs = Path(tempfile.mkdtemp(prefix="bench-pages-"))
    processes = []
    try:
        worker = worker_start(database_url=database_url, name="bench-pages")
        processes.append(worker)
        portal, portal_url = gunicorn_start("alc_portal.wsgi", logs / "portal.log")
        processes.append(portal)
        wrong = []
        for run in range(1, args.runs + 1):
            # The baseline runs alone: its server is stopped before the portal is measured.
            hello_proc, hello_url = gunicorn_start(
                HELLO_APP, logs / "hello.log", DJANGO_SETTINGS_MODULE="bench.hello"
            )
            processes.append(hello_proc)
            hello = measure("hello-world", hello_url + "/", None, args.seconds)
            stop(hello_proc)
            processes.remove(hello_proc)
            rows = []
            for page in PAGES:
                cookie = cookies[page.role] if page.role else None
                rows.append(measure(page.label, portal_url + page.path, cookie, args.seconds))
            print(f"\nrun {run} of {args.runs}:\n{table(rows, hello)}", flush=True)
            runs_wrong = [(row.label, row.single.wrong + row.many.wrong) for row in rows + [hello]]
            wrong += [(label, n) for label, n in runs_wrong if n]

        if args.profile:
            slowest = max(rows, key=lambda row: row.single.p50_ms)
            page = next(p for p in PAGES if p.label == slowest.label)
            args.profile.mkdir(parents=True, exist_ok=True)
            paths, profilers = [], []
            for pid in gunicorn_workers(portal):
                paths.append(args.profile / f"gunicorn-{pid}.txt")
                profilers.append(profiler_start(pid, paths[-1]))
            time.sleep(1)
            cookie = cookies[page.role] if page.role else None
            wrk(portal_url + page.path, connections=16, seconds=args.seconds * 2, cookie=cookie)
            for profiler in profilers:
                profiler.send_signal(2)
                profiler.wait(timeout=60)
            summary = profile_summary(paths)
            (args.profile / "summary.txt").write_text(summary + "\n")
            print(f"\nprofile of {page.label} under 16 connections:\n{summary}")
    finally:
        for proc in reversed(processes):
            if proc is processes[0]:
                worker_stop(proc)
            else:
                stop(proc)
    if wrong:
        print("answers other than 200: " + ", ".join(f"{label}: {n}" for label, n in wrong))
        print(f"(logs in {logs})")
        return 1
    shutil.rmtree(logs, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
