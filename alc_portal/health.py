"""/healthz, for load balancers and uptime monitors: is the database answering, is Redis, and
has a Celery worker written its heartbeat lately (alc_portal.heartbeats)?

It answers from cheap facts only: one `SELECT 1` and one round trip to Redis (PING and a count
of fresh heartbeats, pipelined), never a broadcast to the workers, so probing it often, or
flooding it, costs the portal almost nothing. Anonymous callers get the status code and one
word; national staff, and monitors sending STATUS_TOKEN, get each check."""

import threading
import time

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import heartbeats

_clients: dict[str, redis.Redis] = {}
_clients_lock = threading.Lock()


def _redis() -> redis.Redis:
    """One client (and its connection pool) per process, kept between requests."""
    url = settings.REDIS_URL
    client = _clients.get(url)
    if client is None:
        with _clients_lock:
            client = _clients.setdefault(
                url,
                redis.Redis.from_url(
                    url, socket_connect_timeout=1, socket_timeout=1, retry_on_timeout=False
                ),
            )
    return client


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        return False


def _redis_and_workers() -> tuple[bool, bool]:
    """Whether Redis answers, and whether a worker's heartbeat is fresh."""
    pipe = _redis().pipeline(transaction=False)
    pipe.ping()
    heartbeats.fresh_workers_count(pipe, since=time.time() - settings.WORKER_STALE_SECONDS)
    try:
        pong, fresh = pipe.execute()
    except redis.RedisError:
        return False, False
    return bool(pong), fresh > 0


def may_read_details(request) -> bool:
    """National staff, or a monitor sending STATUS_TOKEN ("Authorization: Bearer <token>")."""
    token = settings.STATUS_TOKEN
    sent = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if token and sent and constant_time_compare(sent, token):
        return True
    # Only a request carrying a session cookie can be signed in: don't look one up otherwise.
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return False
    return request.user.is_authenticated and request.user.is_national_staff


@never_cache
@require_GET
def healthz(request):
    redis_ok, worker_ok = _redis_and_workers()
    checks = {"database": _database_ok(), "redis": redis_ok, "celery_worker": worker_ok}
    healthy = all(checks.values())
    word = "ok" if healthy else "unavailable"
    status = 200 if healthy else 503
    if not may_read_details(request):
        return HttpResponse(word, status=status, content_type="text/plain; charset=utf-8")
    body = {"status": word}
    body.update({name: "ok" if ok else "down" for name, ok in checks.items()})
    return JsonResponse(body, status=status)
