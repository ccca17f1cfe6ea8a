"""A sending rate that holds across every worker process, kept in Redis.

Generic cell rate algorithm: Redis keeps, per mailing, the time the next message may go
("theoretical arrival time"). Each message reserves the next slot, spaced 1/rate apart, using
Redis's clock so that all workers agree; a worker sleeps until its slot. Messages are therefore
spread evenly rather than sent in bursts at the start of each second.
"""

from __future__ import annotations

import functools

import redis
from django.conf import settings

# Slots are spaced slightly wider than 1/rate so that jitter in sending never pushes the
# measured rate over the limit.
SAFETY = 1.02

_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local wait = tat - now
if wait > tonumber(ARGV[2]) then return tostring(-wait) end
redis.call('SET', KEYS[1], tostring(tat + tonumber(ARGV[1])), 'EX', 3600)
return tostring(wait)
"""


@functools.cache
def redis_client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=5)


@functools.cache
def _script():
    return redis_client().register_script(_RESERVE)


def rate_slot(*, mailing_id: int, rate: float, max_wait: float) -> tuple[bool, float]:
    """Reserve a slot to send one message of the mailing at `rate` messages per second.

    Returns (True, seconds to wait before sending) or, when the next slot is more than
    `max_wait` away, (False, seconds until it) without reserving anything.
    """
    interval = SAFETY / rate
    wait = float(_script()(keys=[f"mailing:{mailing_id}:rate"], args=[interval, max_wait]))
    if wait < 0:
        return False, -wait
    return True, wait


def heartbeat(*, mailing_id: int, seconds: float) -> None:
    """Note that a task is looking after this mailing for the next `seconds`."""
    redis_client().set(f"mailing:{mailing_id}:alive", 1, px=max(1, int(seconds * 1000)))


def is_alive(*, mailing_id: int) -> bool:
    return bool(redis_client().exists(f"mailing:{mailing_id}:alive"))
