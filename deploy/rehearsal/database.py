"""Reading the rehearsal's databases directly, as an administrator would with psql: progress of
a mailing, beat's PeriodicTask rows, and the comparison of a restored database with the one
it was backed up from."""

from __future__ import annotations

import contextlib
import time

import psycopg2
import psycopg2.extras

SAMPLED_TABLES = ("members_user", "regions_council", "campaigns_delivery")


def query(url: str, sql: str, params=(), *, wait: float = 120) -> list[tuple]:
    """One query on a new connection; while the server restarts, try again for `wait` s."""
    deadline = time.monotonic() + wait
    while True:
        try:
            connection = psycopg2.connect(url, connect_timeout=5)
            with contextlib.closing(connection), connection, connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall() if cursor.description else []
        except psycopg2.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def tables(url: str) -> list[str]:
    rows = query(
        url,
        "SELECT table_name FROM information_schema.tables"
        " WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name",
    )
    return [name for (name,) in rows]


def snapshot(url: str, sample: dict[str, list] | None = None, size: int = 20):
    """Row counts of every table and, in the same transaction (one consistent view, as pg_dump
    has), whole rows of SAMPLED_TABLES: `size` random ones, or the ids in `sample`."""
    counts, rows = {}, {}
    with contextlib.closing(psycopg2.connect(url, connect_timeout=10)) as conn:
        conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
        with conn, conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cursor:
            cursor.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
                " AND table_type = 'BASE TABLE' ORDER BY table_name"
            )
            for name in [row["table_name"] for row in cursor.fetchall()]:
                cursor.execute(f'SELECT count(*) AS n FROM "{name}"')
                counts[name] = cursor.fetchone()["n"]
            for name in SAMPLED_TABLES:
                if sample is None:
                    cursor.execute(f'SELECT * FROM "{name}" ORDER BY random() LIMIT %s', [size])
                else:
                    cursor.execute(f'SELECT * FROM "{name}" WHERE id = ANY(%s)', [sample[name]])
                rows[name] = {row["id"]: dict(row) for row in cursor.fetchall()}
    return counts, rows


def mailing_progress(url: str, mailing_id: int) -> tuple[str, dict[str, int]]:
    status = query(url, "SELECT status FROM campaigns_mailing WHERE id = %s", [mailing_id])
    counts = query(
        url,
        "SELECT status, count(*) FROM campaigns_delivery WHERE mailing_id = %s GROUP BY status",
        [mailing_id],
    )
    return status[0][0], dict(counts)


def senders(url: str, mailing_id: int) -> list[tuple[str, int]]:
    """Who recorded each sent delivery: claimed_by is host:pid:task."""
    return query(
        url,
        "SELECT claimed_by, count(*) FROM campaigns_delivery"
        " WHERE mailing_id = %s AND status = 'sent' GROUP BY claimed_by",
        [mailing_id],
    )


def claimed_by(url: str, mailing_id: int) -> list[str]:
    rows = query(
        url,
        "SELECT DISTINCT claimed_by FROM campaigns_delivery"
        " WHERE mailing_id = %s AND status = 'claimed'",
        [mailing_id],
    )
    return [name for (name,) in rows]


def periodic_tasks(url: str) -> dict[str, tuple]:
    """django_celery_beat's rows: name -> (last_run_at, total_run_count)."""
    rows = query(
        url,
        "SELECT name, last_run_at, total_run_count FROM django_celery_beat_periodictask",
    )
    return {name: (last, count) for name, last, count in rows}
