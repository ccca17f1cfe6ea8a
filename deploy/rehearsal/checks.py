"""The rehearsal's checks, in order, on the portal run.py started:

a. /healthz, the login page, the HTTP redirect, a static file, both gunicorns, over HTTPS
   through nginx with the test certificate;
b. a staff sign-in with password and TOTP, /regions/national/, and a 9 MB upload (a 13 MB one
   is refused by nginx);
c. a mailing to 500 addresses with both workers sending, while Redis restarts, a worker is
   killed with SIGKILL (and started again by its unit's Restart=) and PostgreSQL restarts:
   every address receives it, duplicates counted;
d. beat's periodic jobs recorded in django_celery_beat's PeriodicTask rows after the start and
   again after the restarts;
e. a backup with the backup unit and deploy/backup, a restore with deploy/restore into a new
   database and folder, every table's row count and sample rows compared, and the portal
   started on the restored database, signed in to through nginx.
"""

from __future__ import annotations

import collections
import dataclasses
import os
import re
import signal
import time

import requests

from . import database, recovery
from .portal import Visitor, sha256
from .servers import LOOPBACK, wait_for

MAILING_SIZE = 500
# Messages per second for the rehearsal's mailing (its own rate limit), so that it lasts long
# enough for the restarts to happen while it sends.
MAILING_RATE = 8
UPLOAD_BYTES = 9 * 1024 * 1024
TOO_LARGE_BYTES = 13 * 1024 * 1024
BEAT_JOBS = ("mailings-sweep", "mailings-start-scheduled", "notices-sweep")

MAILING_SETUP = """
import json, os, sys
sys.path.insert(0, "bench")
from mailing import audience_create  # bench/mailing.py: N councils, groups, elections, a mailing
from campaigns.models import Mailing
from regions.models import CouncilGroup

mailing_id = audience_create(int(os.environ["REHEARSAL_COUNT"]))
Mailing.objects.filter(pk=mailing_id).update(rate_limit=float(os.environ["REHEARSAL_RATE"]))
mailing = Mailing.objects.get(pk=mailing_id)
emails = CouncilGroup.objects.filter(council__region__in=mailing.regions.all())
emails = list(emails.values_list("contact_email", flat=True))
print(json.dumps({"mailing": mailing_id, "emails": emails}))
"""
MAILING_START = """
import json, os
from campaigns.services.lifecycle import mailing_start
print(json.dumps({"started": mailing_start(mailing_id=int(os.environ["REHEARSAL_MAILING"]))}))
"""


def run_all(r) -> None:
    with r.stage("a. /healthz and the login page through nginx over HTTPS"):
        https_basics(r)
    with r.stage("b. staff sign-in with TOTP through nginx, a page, an upload"):
        staff_sign_in(r)
    with r.stage(f"c. a mailing to {MAILING_SIZE} addresses through restarts and a killed worker"):
        mailing(r)
    with r.stage("d. beat's periodic jobs in django_celery_beat, after start and restarts"):
        beat(r)
    recovery.run_all(r)


# --- a ------------------------------------------------------------------------------------------


def https_basics(r) -> None:
    r.visitor = visitor = Visitor(r.nginx.base, r.cert, monitor_token=r.env["STATUS_TOKEN"])
    wait_for(lambda: visitor.healthz()[0], 120, "/healthz to answer 200 through nginx", interval=1)
    r.check(True, f"GET {r.nginx.base}/healthz, certificate verified: {visitor.healthz()[1]}")
    login = visitor.get("/accounts/login/")
    r.check(
        login.status_code == 200
        and 'name="login"' in login.text
        and 'name="password"' in login.text,
        f"GET /accounts/login/: {login.status_code}, the sign-in form",
    )
    hsts = login.headers.get("Strict-Transport-Security", "")
    r.check("max-age=" in hsts, f"the portal's HSTS header comes through: {hsts}")
    direct = requests.Session()
    direct.trust_env = False  # no proxy from the environment
    plain = direct.get(
        f"http://localhost:{r.nginx.http_port}/accounts/login/", allow_redirects=False, timeout=30
    )
    location = plain.headers.get("Location", "")
    r.check(
        plain.status_code == 301 and location.startswith("https://localhost"),
        f"plain HTTP is redirected: {plain.status_code} to {location}",
    )
    css = re.search(r'href="(/static/[^"]+\.css)"', login.text)
    r.check(css, "the login page links a stylesheet under /static/")
    style = visitor.get(css.group(1))
    cache = style.headers.get("Cache-Control", "")
    r.check(
        style.status_code == 200 and "max-age" in cache,
        f"{css.group(1)} served by whitenoise behind nginx: {style.status_code}, "
        f"Cache-Control {cache}",
    )
    offsets = [web.log_size() for web in r.web]
    for _ in range(12):
        visitor.get("/accounts/login/")
    served = []
    for web, offset in zip(r.web, offsets, strict=True):
        with open(web.log_path, errors="replace") as log:
            log.seek(offset)
            lines = [line for line in log if '"GET /accounts/login/ ' in line]
        served.append(len(lines))
        r.check(
            lines and all(line.startswith(f"{LOOPBACK} ") for line in lines),
            f"{web.label} logs the visitor's address from X-Forwarded-For ({LOOPBACK})",
        )
    r.check(all(served), f"nginx spreads 12 requests over both gunicorns: {served}")


# --- b ------------------------------------------------------------------------------------------


def staff_sign_in(r) -> None:
    from .run import CAMPAIGN_SLUG, STAFF_EMAIL

    visitor = r.visitor
    r.last_code = visitor.sign_in(STAFF_EMAIL, r.password, r.totp_secret)
    r.say(f"signed in as {STAFF_EMAIL}: password, then the TOTP code (allauth)")
    page = visitor.get("/regions/national/")
    r.check(
        page.status_code == 200 and "London" in page.text and "Wales" in page.text,
        f"GET /regions/national/ as staff: {page.status_code}, the regions listed",
    )
    add = f"/campaigns/{CAMPAIGN_SLUG}/resources/add/"
    content = b"%PDF-1.4\n" + os.urandom(UPLOAD_BYTES)
    response = visitor.form_post(
        add,
        {"title": "Rehearsal pack", "url": ""},
        files={"file": ("rehearsal-pack.pdf", content, "application/pdf")},
    )
    r.check(
        response.status_code == 302,
        f"a {len(content) / 2**20:.0f} MB campaign resource uploaded through nginx: "
        f"{response.status_code}",
    )
    campaign = visitor.get(f"/campaigns/{CAMPAIGN_SLUG}/")
    link = re.search(rf"/campaigns/{CAMPAIGN_SLUG}/resources/\d+/file/", campaign.text)
    r.check(link, "the campaign page links the uploaded file")
    download = visitor.get(link.group(0))
    r.resource = (link.group(0), sha256(content))
    r.check(
        download.status_code == 200 and sha256(download.content) == sha256(content),
        "the file downloads through nginx byte for byte",
    )
    big = visitor.post(
        add,
        {"title": "Too large"},
        files={"file": ("big.pdf", b"%PDF-" + bytes(TOO_LARGE_BYTES), "application/pdf")},
    )
    r.check(
        big.status_code == 413,
        f"a {TOO_LARGE_BYTES / 2**20:.0f} MB upload is refused by nginx: {big.status_code}",
    )


# --- c ------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Event:
    """A disruption during the mailing, and how many repeated messages it may cause."""

    name: str
    at: float  # time.time() when it began
    received: int  # messages at the sink by then
    allowed: int
    why: str


def mailing(r) -> None:
    created = r.admin.shell_json(
        MAILING_SETUP,
        overrides={"REHEARSAL_COUNT": str(MAILING_SIZE), "REHEARSAL_RATE": str(MAILING_RATE)},
    )
    mailing_id, expected = created["mailing"], {e.lower() for e in created["emails"]}
    r.check(len(expected) == MAILING_SIZE, f"mailing {mailing_id}: {len(expected)} group addresses")
    r.events = []
    baseline = r.sink.count()
    started = time.monotonic()
    result = r.admin.shell_json(MAILING_START, overrides={"REHEARSAL_MAILING": str(mailing_id)})
    r.check(result["started"], f"mailing_start: sending at {MAILING_RATE} messages a second")

    def at(fraction: float) -> int:
        target = baseline + int(fraction * MAILING_SIZE)
        wait_for(lambda: r.sink.count() >= target, 900, f"{target - baseline} messages at the sink")
        return r.sink.count() - baseline

    redis_restart(r, at(0.15))
    worker_kill(r, mailing_id, at(0.40))
    postgres_restart(r, at(0.65))
    shown = [0.0]

    def finished():
        status, counts = database.mailing_progress(r.database_url, mailing_id)
        if time.monotonic() - shown[0] > 15:
            shown[0] = time.monotonic()
            r.say(f"mailing {status}: {counts}; sink {r.sink.count() - baseline}")
        return status == "sent" and counts.get("sent") == MAILING_SIZE

    wait_for(finished, 1200, f"all {MAILING_SIZE} deliveries to be sent", interval=1)
    took = time.monotonic() - started
    r.say(f"all {MAILING_SIZE} deliveries recorded as sent, {took:.0f} s after the start")
    wait_for(lambda: r.sink.count() - baseline >= MAILING_SIZE, 60, "the sink's last files")
    time.sleep(1)  # the sink writes a message's file as it receives it: let the last one finish
    mailing_verify(r, mailing_id, expected)


def redis_restart(r, received: int) -> None:
    before = r.redis.client().dbsize()
    at = time.time()
    r.redis.stop()
    r.redis.start()
    down = time.time() - at
    after = r.redis.client().dbsize()
    aof = r.redis.directory / "appendonlydir"
    r.check(
        aof.is_dir() and any(aof.iterdir()),
        f"Redis stopped and started again at {received} messages (down {down:.1f} s); "
        f"its append-only files kept the data: {before} keys before, {after} after",
    )
    healthy = wait_for(lambda: r.visitor.healthz()[0], 120, "/healthz after Redis restarted")
    r.check(healthy, f"/healthz answers 200 again {time.time() - at:.1f} s after the stop")
    # Each sending task's liveness key lasts 10 s (docs/mailings.md): kept by the append-only
    # file across a short restart, so no claim is taken from a live task and nothing repeats.
    allowed, why = (0, "liveness keys kept") if down < 10 else (2, "liveness keys lapsed")
    r.events.append(Event("Redis restart", at, received, allowed, why))


def worker_kill(r, mailing_id: int, received: int) -> None:
    victim = None
    for holder in database.claimed_by(r.database_url, mailing_id):
        pid = int(holder.split(":")[1]) if holder.count(":") >= 2 else 0
        victim = next((w for w in r.workers.values() if pid in w.pids_seen), victim)
    holding = victim is not None
    victim = victim or r.workers["w1"]
    restarts, offset = len(victim.restarts), victim.log_size()
    at = time.time()
    victim.kill(signal.SIGKILL)
    processes = int(victim.environment().get("CELERY_CONCURRENCY") or 1)
    r.events.append(
        Event(
            f"SIGKILL of {victim.label}",
            at,
            received,
            processes,
            f"docs/mailings.md: a killed worker repeats at most the message it was sending; "
            f"{processes} process(es)",
        )
    )
    node = f"{victim.unit.instance}@{victim.unit.specifiers['H']}"
    wait_for(lambda: len(victim.restarts) > restarts, 120, f"{victim.label} to be restarted")
    wait_for(lambda: victim.log_has(f"{node} ready.", offset), 240, f"{node} to be ready again")
    r.say(
        f"killed {victim.label} with SIGKILL (all its processes) at {received} messages"
        f"{', while it held claimed deliveries' if holding else ''}; its unit's Restart=on-failure "
        f"started it again, ready {time.time() - at:.0f} s after the kill"
    )


def postgres_restart(r, received: int) -> None:
    at = time.time()
    r.pg.pg_ctl("restart")
    r.say(
        f"PostgreSQL restarted (pg_ctl restart -m fast) at {received} messages, "
        f"in {time.time() - at:.1f} s"
    )
    wait_for(lambda: r.visitor.healthz()[0], 120, "/healthz after PostgreSQL restarted")
    r.check(True, f"/healthz answers 200 again {time.time() - at:.1f} s after the restart began")
    # A sending task whose connection is cut after the mail server accepted a message cannot
    # record it: that message goes out again after the sweep, one per sending task at most.
    tasks = int(r.env.get("MAILING_PARALLEL_TASKS") or 2)
    r.events.append(
        Event(
            "PostgreSQL restart",
            at,
            received,
            tasks,
            f"the message each of the {tasks} sending tasks had in flight",
        )
    )
    r.disruptions_end = time.time()


def mailing_verify(r, mailing_id: int, expected: set[str]) -> None:
    arrivals = [(when, address) for when, address in r.sink.arrivals() if address in expected]
    copies = collections.Counter(address for _, address in arrivals)
    first = {}
    for when, address in arrivals:
        first.setdefault(address, when)
    missing = sorted(expected - set(copies))
    duplicates = {a: n - 1 for a, n in copies.items() if n > 1}
    r.duplicates = sum(duplicates.values())
    r.say(
        f"the sink received {len(arrivals)} messages for the {len(expected)} addresses: "
        f"{len(missing)} missing, {r.duplicates} duplicate(s) {sorted(duplicates)}"
    )
    r.check(not missing, f"every address received the mailing (missing: {missing[:5]})")
    # Each repeat is charged to the disruption its first copy went out at (the message that
    # was in flight then).
    charged, unexplained = collections.Counter(), []
    for address, extra in duplicates.items():
        near = [e for e in r.events if e.at - 10 <= first[address] <= e.at + 5]
        if near:
            charged[min(near, key=lambda e: abs(e.at - first[address])).name] += extra
        else:
            unexplained.append(address)
    ends = [e.at for e in r.events[1:]] + [float("inf")]
    for event, end in zip(r.events, ends, strict=True):
        # The longest wait for a message between this disruption and the next (or the end).
        times = [event.at] + [when for when, _ in arrivals if event.at < when < end]
        pause = max((b - a for a, b in zip(times, times[1:], strict=False)), default=0.0)
        r.say(
            f"{event.name} at {event.received} messages: sending paused at most {pause:.1f} s; "
            f"{charged[event.name]} repeated, at most {event.allowed} allowed ({event.why})"
        )
    r.check(
        not unexplained and all(charged[e.name] <= e.allowed for e in r.events),
        f"{r.duplicates} duplicate(s), each the message in flight at a disruption, within what "
        f"each allows" + (f"; unexplained: {unexplained}" if unexplained else ""),
    )
    by_worker = {}
    for holder, count in database.senders(r.database_url, mailing_id):
        pid = int(holder.split(":")[1]) if holder.count(":") >= 2 else 0
        name = next((w.label for w in r.workers.values() if pid in w.pids_seen), f"? ({holder})")
        by_worker[name] = by_worker.get(name, 0) + count
    r.check(
        all(by_worker.get(w.label) for w in r.workers.values()),
        f"both workers sent: {by_worker}",
    )
    for service in r.services:
        for when, why in service.restarts:
            moment = time.strftime("%H:%M:%S", time.localtime(when))
            r.say(f"{service.label} was restarted by its unit at {moment} ({why})")


# --- d ------------------------------------------------------------------------------------------


def beat(r) -> None:
    def ran_since(moment: float):
        rows = database.periodic_tasks(r.database_url)
        if all(
            rows.get(job) and rows[job][0] and rows[job][0].timestamp() > moment
            for job in BEAT_JOBS
        ):
            return rows
        return None

    # Beat writes last_run_at to the database when it syncs its schedule: every 3 minutes.
    for moment, when in ((r.beat_started, "beat started"), (r.disruptions_end, "the restarts")):
        rows = wait_for(
            lambda m=moment: ran_since(m), 420, f"beat's jobs to run after {when}", interval=2
        )
        shown = ", ".join(
            f"{job} {rows[job][0].astimezone().strftime('%H:%M:%S')} (runs: {rows[job][1]})"
            for job in BEAT_JOBS
        )
        since = time.strftime("%H:%M:%S", time.localtime(moment))
        r.check(True, f"last_run_at after {when} ({since}): {shown}")
    runs = sum(
        line.count("campaigns.tasks.mailings_sweep[") for w in r.workers.values()
        for line in w.log_path.read_text(errors="replace").splitlines() if "succeeded" in line
    )  # fmt: skip
    r.check(runs, f"the workers ran mailings_sweep {runs} times (their logs)")
