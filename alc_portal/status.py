"""The status page, for the national office and for monitoring: are the workers and beat
running, is work piling up, has anything failed? Each check is green or red against the
thresholds docs/operations.md lists, and says why when it is red."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import redis
from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from campaigns.models import Delivery
from members.models import CouncillorImport, Notice
from regions.access import require_national_staff

from . import heartbeats
from .health import may_read_details

# Thresholds (docs/operations.md, "The status page").
QUEUE_MAX = 1000  # tasks waiting in a queue
PENDING_DELIVERY_MAX_AGE = timedelta(hours=1)  # a message due this long ago and not yet sent
PENDING_IMPORT_MAX_AGE = timedelta(minutes=30)  # an import queued or running this long
JOB_LATE_FACTOR = 3  # a periodic job not run for this many of its intervals (and a minute)


@dataclass
class Check:
    name: str
    ok: bool
    summary: str
    rows: list[dict] = field(default_factory=list)


def _workers() -> Check:
    now = time.time()
    seen = heartbeats.workers_seen()
    rows = [
        {"worker": name, "last heartbeat": _when(at), "seconds ago": round(now - at, 1),
         "ok": now - at <= settings.WORKER_STALE_SECONDS}
        for name, at in sorted(seen.items())
    ]  # fmt: skip
    fresh = [row for row in rows if row["ok"]]
    if fresh:
        return Check("workers", True, f"{len(fresh)} worker(s) running", rows)
    return Check(
        "workers",
        False,
        f"No worker has been heard from in the last {settings.WORKER_STALE_SECONDS:g} seconds: "
        "nothing is being sent.",
        rows,
    )


def _jobs() -> Check:
    """Each periodic job in CELERY_BEAT_SCHEDULE: when a worker last started it. A job that
    has run before and is now overdue is late; one that has never run is waiting for its first
    turn, unless no job has run at all (then beat is not running)."""
    now = time.time()
    last = heartbeats.jobs_last_run()
    rows, late = [], []
    for name, entry in sorted(settings.CELERY_BEAT_SCHEDULE.items()):
        every = float(entry["schedule"])
        ran = last.get(entry["task"])
        ok = ran is None or now - ran <= JOB_LATE_FACTOR * every + settings.STATUS_JOB_GRACE_SECONDS
        rows.append({"job": name, "every (seconds)": every, "last run": _when(ran), "ok": ok})
        if not ok:
            late.append(name)
    if not last:
        return Check("beat", False, "No periodic job has run: is beat running?", rows)
    if not late:
        return Check("beat", True, "Every periodic job ran on time", rows)
    return Check(
        "beat",
        False,
        f"Periodic jobs not run on time: {', '.join(late)}. Is beat (or every worker) stopped?",
        rows,
    )


def _queues() -> Check:
    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    try:
        name = settings.CELERY_TASK_DEFAULT_QUEUE
        waiting = client.llen(name)
    except redis.RedisError as error:
        return Check("queues", False, f"Redis does not answer: {error}")
    finally:
        client.close()
    rows = [{"queue": name, "waiting": waiting}]
    if waiting > QUEUE_MAX:
        return Check("queues", False, f"{waiting} tasks waiting in {name}", rows)
    return Check("queues", True, f"{waiting} task(s) waiting", rows)


def _failures() -> Check:
    since = timezone.now() - timedelta(hours=24)
    tasks = heartbeats.task_failures_since(since.timestamp())
    notices_failed = Notice.objects.failed_since(since).count()
    notices_deferred = Notice.objects.filter(status=Notice.Status.QUEUED, attempts__gt=0).count()
    deliveries_failed = Delivery.objects.filter(
        status=Delivery.Status.FAILED, claimed_at__gte=since
    ).count()
    deliveries_deferred = Delivery.objects.filter(
        status=Delivery.Status.PENDING, attempts__gt=0
    ).count()
    rows = [
        {"what": "failed tasks", "count": len(tasks)},
        {"what": "failed notices", "count": notices_failed},
        {"what": "notices waiting to be tried again", "count": notices_deferred},
        {"what": "failed mailing messages", "count": deliveries_failed},
        {"what": "mailing messages waiting to be tried again", "count": deliveries_deferred},
    ]
    bad = [f"{row['count']} {row['what']}" for row in rows[:2] if row["count"]]
    if bad:
        return Check("failures", False, "In the last 24 hours: " + ", ".join(bad), rows)
    return Check("failures", True, "No task or notice failed in the last 24 hours", rows)


def _oldest_waiting() -> Check:
    now = timezone.now()
    delivery = (
        Delivery.objects.filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )
    imp = (
        CouncillorImport.objects.filter(
            status__in=[CouncillorImport.Status.QUEUED, CouncillorImport.Status.RUNNING]
        )
        .order_by("uploaded_at")
        .values_list("uploaded_at", flat=True)
        .first()
    )
    rows = [
        {"what": "mailing message due", "since": _when(delivery)},
        {"what": "councillor import", "since": _when(imp)},
    ]
    problems = []
    if delivery and now - delivery > PENDING_DELIVERY_MAX_AGE:
        problems.append(f"a mailing message has been due since {_when(delivery)}")
    if imp and now - imp > PENDING_IMPORT_MAX_AGE:
        problems.append(f"an import has been waiting since {_when(imp)}")
    if problems:
        return Check("waiting", False, "Work is stuck: " + "; ".join(problems), rows)
    return Check("waiting", True, "Nothing has waited too long", rows)


def _storage() -> Check:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        database_bytes = cursor.fetchone()[0]
    media = Path(str(settings.MEDIA_ROOT))
    media.mkdir(parents=True, exist_ok=True)
    free_mb = shutil.disk_usage(media).free // (1024 * 1024)
    rows = [
        {"what": "database size (MB)", "value": round(database_bytes / (1024 * 1024), 1)},
        {"what": "free disk under MEDIA_ROOT (MB)", "value": free_mb},
    ]
    if free_mb < settings.STATUS_DISK_MIN_MB:
        return Check("storage", False, f"Only {free_mb} MB free under {media}", rows)
    return Check("storage", True, f"{free_mb:,} MB free", rows)


def _when(moment) -> str | None:
    if moment is None:
        return None
    if isinstance(moment, int | float):
        moment = timezone.datetime.fromtimestamp(moment, tz=timezone.get_current_timezone())
    return timezone.localtime(moment).isoformat(timespec="seconds")


def status_report() -> dict:
    """Every check, whether all are green, and why not."""
    checks = [_workers(), _jobs(), _queues(), _failures(), _oldest_waiting(), _storage()]
    problems = [check.summary for check in checks if not check.ok]
    return {
        "status": "ok" if not problems else "problem",
        "ok": not problems,
        "problems": problems,
        "checked_at": timezone.localtime().isoformat(timespec="seconds"),
        "checks": [
            {"name": c.name, "ok": c.ok, "summary": c.summary, "rows": c.rows} for c in checks
        ],
    }


# The pages.


@never_cache
@require_GET
def status_page(request):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    require_national_staff(request.user)
    return render(request, "status.html", {"report": status_report()})


@never_cache
@require_GET
def status_json(request):
    """The same report for monitoring: 200 when all is well, 503 and the reasons when not."""
    if not may_read_details(request):
        raise PermissionDenied
    report = status_report()
    return JsonResponse(report, status=200 if report["ok"] else 503)
