"""Parts of pages drawn from data that changes a few times a year (the councils' tables, totals
and charts of the dashboards), rendered once and kept in the cache under the *data version*.

The data version is a token in the cache that every write to the tables those parts show
replaces. No write can forget to: a database execute wrapper on every connection sees each
INSERT, UPDATE, DELETE and TRUNCATE on them, from the ORM's saves, bulk writes and queryset
updates, the admin, imports in workers and management commands alike. It replaces the token
before the statement runs (so the writer's own transaction never reads an older part) and again
once the transaction has committed (so a part drawn by another request while it was open, from
the data before it, is never read again). A part is drawn from data read after its version was:
it is never kept under a version newer than its data.

If the cache cannot be reached, a write to these tables fails (with nothing saved) rather than
leave parts that may be stale; pages draw every part afresh until it is back.
"""

import hashlib
import logging
import re
import uuid
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache
from django.db import connections, transaction
from django.db.backends.signals import connection_created
from django.utils import timezone

log = logging.getLogger(__name__)

VERSION_KEY = "data-version"
# How long a part is kept: it is never stale before then, this only bounds what the cache holds.
PART_SECONDS = 24 * 60 * 60

# The tables the cached parts are drawn from: the regions app's (councils, elections, Labour
# groups, officers, representatives) and the people and councillors they count or name.
WATCHED_PREFIX = "regions_"
WATCHED_TABLES = frozenset({"members_user", "members_councillor"})
_WRITE = re.compile(r'\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM|TRUNCATE)\s+(?:ONLY\s+)?"?(\w+)', re.I)
_TABLE_NAME = re.compile(r'"(\w+)"')

T = TypeVar("T")


def _watched(table: str) -> bool:
    return (table.startswith(WATCHED_PREFIX) and "_historical" not in table) or (
        table in WATCHED_TABLES
    )


def writes_watched_table(sql: str) -> bool:
    found = _WRITE.match(sql)
    if found is None:
        return False
    if found.group(1).upper() == "TRUNCATE":
        return any(_watched(name) for name in _TABLE_NAME.findall(sql))
    return _watched(found.group(2))


def data_changed() -> None:
    """Replace the data version: every cached part drawn before is read no more."""
    cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)


def _changed_after_commit() -> None:
    try:
        data_changed()
    except Exception:
        # The write is saved; the version was replaced before it ran, so only a part drawn while
        # its transaction was open could be read again.
        log.exception("the data version could not be replaced after a commit")


def _watch(execute, sql, params, many, context):
    if not writes_watched_table(sql):
        return execute(sql, params, many, context)
    connection = context["connection"]
    data_changed()
    try:
        return execute(sql, params, many, context)
    finally:
        if not connection.in_atomic_block:
            _changed_after_commit()
        elif not any(entry[1] is _changed_after_commit for entry in connection.run_on_commit):
            transaction.on_commit(_changed_after_commit, using=connection.alias)


def _install(connection, **kwargs) -> None:
    if _watch not in connection.execute_wrappers:
        connection.execute_wrappers.append(_watch)


def watch_writes() -> None:
    """Watch every database connection, those open now and those opened later."""
    connection_created.connect(_install, dispatch_uid="alc-portal-fragments")
    for connection in connections.all(initialized_only=True):
        _install(connection)


def data_version() -> str | None:
    """The current data version, or None if the cache cannot be reached."""
    try:
        version = cache.get(VERSION_KEY)
        if version is None:
            cache.add(VERSION_KEY, uuid.uuid4().hex, timeout=None)
            version = cache.get(VERSION_KEY)
    except Exception:
        log.warning("the cache cannot be reached: drawing every part afresh", exc_info=True)
        return None
    return version


def cached(name: str, key: tuple, draw: Callable[[], T]) -> T:
    """What `draw()` gives (rendered HTML, or data for it), kept under `name`, `key` (what it
    depends on besides the watched tables) and today's date, until the data version changes."""
    version = data_version()
    if version is None:
        return draw()
    digest = hashlib.sha256(repr((key, timezone.localdate().isoformat())).encode()).hexdigest()
    part_key = f"part:{name}:{version}:{digest}"
    try:
        value = cache.get(part_key)
    except Exception:
        value = None
    if value is None:
        value = draw()
        try:
            cache.set(part_key, value, timeout=PART_SECONDS)
        except Exception:
            log.warning("the cache cannot be reached: part %s not kept", name, exc_info=True)
    return value
