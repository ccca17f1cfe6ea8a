"""Sending rates that hold across every worker process and every mailing, kept in Redis.

Generic cell rate algorithm: Redis keeps, per limit, the time the next message may go
("theoretical arrival time"). Each message reserves its slot under every limit that applies to
it at once (the portal-wide MAILING_RATE_LIMIT and, when set, its mailing's lower one), using
Redis's clock so that all workers agree; a worker sleeps until its slot. Messages are therefore
spread evenly rather than sent in bursts at the start of each second.
"""

from __future__ import annotations

import functools
import math

import redis
from django.conf import settings

from .models import RATE_LIMIT_MAX

# Slots are spaced slightly wider than 1/rate so that jitter in sending never pushes the
# measured rate over the limit.
SAFETY = 1.02
# One key for the whole sending system: every worker and every mailing share it.
SYSTEM_KEY = "sending:rate"

# KEYS: one per limit; ARGV: max_wait, then one interval per key. The message goes at the
# latest of the keys' next free slots, and each key's next slot is one interval after that.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local at = now
for i, key in ipairs(KEYS) do
  local tat = tonumber(redis.call('GET', key) or '0')
  if tat > at then at = tat end
end
local wait = at - now
if wait > tonumber(ARGV[1]) then return tostring(-wait) end
for i, key in ipairs(KEYS) do
  redis.call('SET', key, tostring(at + tonumber(ARGV[i + 1])), 'EX', 3600)
end
return tostring(wait)
"""


@functools.cache
def redis_client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=5)


@functools.cache
def _script():
    return redis_client().register_script(_RESERVE)


def usable_rate(rate: float | None) -> float | None:
    """A rate that arithmetic can rely on: None when unset, not positive or not a number, and
    no more than RATE_LIMIT_MAX (the database refuses more, but a setting could hold it)."""
    if rate is None or math.isnan(rate) or not rate > 0:
        return None
    return min(float(rate), RATE_LIMIT_MAX)


def effective_rate(mailing_rate: float | None) -> float | None:
    """The messages per second a mailing may go at: the lower of the portal's limit and the
    mailing's own; None when neither is set."""
    rates = [r for r in map(usable_rate, (settings.MAILING_RATE_LIMIT, mailing_rate)) if r]
    return min(rates) if rates else None


def rate_slot(
    *, mailing_id: int, mailing_rate: float | None, max_wait: float
) -> tuple[bool, float]:
    """Reserve a slot to send one message of the mailing under every limit that applies.

    Returns (True, seconds to wait before sending) or, when the next slot is more than
    `max_wait` away, (False, seconds until it) without reserving anything. With no limit at
    all, (True, 0) without asking Redis.
    """
    keys, intervals = [], []
    system_rate = usable_rate(settings.MAILING_RATE_LIMIT)
    if system_rate:
        keys.append(SYSTEM_KEY)
        intervals.append(SAFETY / system_rate)
    mailing_rate = usable_rate(mailing_rate)
    if mailing_rate:
        keys.append(f"mailing:{mailing_id}:rate")
        intervals.append(SAFETY / mailing_rate)
    if not keys:
        return True, 0.0
    wait = float(_script()(keys=keys, args=[max_wait, *intervals]))
    if wait < 0:
        return False, -wait
    return True, wait


def heartbeat(*, mailing_id: int, seconds: float) -> None:
    """Note that a task is looking after this mailing for the next `seconds`."""
    redis_client().set(f"mailing:{mailing_id}:alive", 1, px=max(1, int(seconds * 1000)))


def is_alive(*, mailing_id: int) -> bool:
    return bool(redis_client().exists(f"mailing:{mailing_id}:alive"))


# --- which sending tasks are alive --------------------------------------------------------------
# A sending task keeps a key of its own fresh from a background thread while it runs, even while
# it waits on a slow mail server. A task whose process died stops refreshing it: once the key
# has expired, the sweep may give the task's claimed rows to another one.

WORKER_KEY = "sending:worker:{}"


def worker_heartbeat(*, worker: str, seconds: float) -> None:
    """Note that the task named `worker` is alive for the next `seconds`."""
    redis_client().set(WORKER_KEY.format(worker), 1, px=max(1, int(seconds * 1000)))


def worker_gone(*, worker: str) -> None:
    redis_client().delete(WORKER_KEY.format(worker))


def workers_alive(workers: list[str]) -> set[str]:
    """Those of `workers` whose heartbeat has not expired."""
    if not workers:
        return set()
    pipe = redis_client().pipeline(transaction=False)
    for worker in workers:
        pipe.exists(WORKER_KEY.format(worker))
    return {worker for worker, alive in zip(workers, pipe.execute(), strict=True) if alive}
