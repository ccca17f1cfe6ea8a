"""Stage e of the rehearsal: backup and restore. Data of the association's size is added, a
backup taken with alc-portal-backup.service (deploy/backup) while the portal runs, restored with
deploy/restore into a new database and media folder (after checking it refuses a database that
is not empty), compared table by table and row by row, and the portal started on the restored
database and put behind nginx, as an administrator would after losing a server."""

from __future__ import annotations

import os
import time
from pathlib import Path

from . import database
from .portal import Visitor, sha256
from .servers import LOOPBACK, free_port, wait_for

# The association's size (docs/operations.md): councillors, and mailings of a few thousand.
PEOPLE, MAILINGS, DELIVERIES_EACH = 4600, 12, 3000
RESTORE = Path(__file__).resolve().parents[1] / "restore"

ASSOCIATION_DATA = """
import json, os
from allauth.account.models import EmailAddress
from django.utils import timezone
from simple_history.utils import bulk_create_with_history
from campaigns.models import Delivery, Mailing
from members.models import Councillor, User
from regions.models import Council

env = os.environ
people, mailings = int(env["REHEARSAL_PEOPLE"]), int(env["REHEARSAL_MAILINGS"])
each = int(env["REHEARSAL_EACH"])
councils = list(Council.objects.order_by("pk"))
users = User.objects.bulk_create(
    [User(email=f"cllr{n}@people.alc.example.org", full_name=f"Councillor {n}", password="!")
     for n in range(people)], batch_size=1000)
EmailAddress.objects.bulk_create(
    [EmailAddress(user=u, email=u.email, verified=True, primary=True) for u in users],
    batch_size=1000)
bulk_create_with_history(
    [Councillor(user=u, council=councils[n % len(councils)], ward=f"Ward {n % 40}",
                phone="01632 960000") for n, u in enumerate(users)],
    Councillor, batch_size=1000)
sent = Delivery.objects.filter(status=Delivery.Status.SENT).first()
now = timezone.now()
for m in range(mailings):
    mailing = Mailing.objects.create(
        subject=f"Rehearsal mailing {m}", body="Dear {{ recipient.first_name }}",
        reply_to="office@alc.example.org", recipients=[Mailing.Recipients.CONTACT],
        status=Mailing.Status.SENT)
    Delivery.objects.bulk_create(
        [Delivery(mailing=mailing, email=f"group{n}.m{m}@example.org", group_id=sent.group_id,
                  context=sent.context, status=Delivery.Status.SENT, attempts=1, sent_at=now,
                  claimed_by=sent.claimed_by, message_id=f"<{m}.{n}@alc.example.org>")
         for n in range(each)], batch_size=2000)
print(json.dumps({"users": len(users), "deliveries": mailings * each}))
"""


def run_all(r) -> None:
    with r.stage("e1. data of the association's size for the backup"):
        association_data(r)
    with r.stage("e2. backup (alc-portal-backup.service, deploy/backup)"):
        backup(r)
    with r.stage("e3. restore (deploy/restore) into a new database and media folder"):
        restore(r)
    with r.stage("e4. the portal on the restored database, through nginx"):
        restored_portal(r)


def association_data(r) -> None:
    start = time.monotonic()
    made = r.admin.shell_json(
        ASSOCIATION_DATA,
        overrides={
            "REHEARSAL_PEOPLE": str(PEOPLE),
            "REHEARSAL_MAILINGS": str(MAILINGS),
            "REHEARSAL_EACH": str(DELIVERIES_EACH),
        },
    )
    r.say(
        f"{made['users']} councillors (accounts, addresses, profiles with history) and "
        f"{MAILINGS} sent mailings of {DELIVERIES_EACH} deliveries ({made['deliveries']}), in "
        f"{time.monotonic() - start:.0f} s"
    )
    size = database.query(
        r.database_url, "SELECT pg_size_pretty(pg_database_size(current_database()))"
    )
    r.say(f"database size: {size[0][0]}")


def backup(r) -> None:
    # An old complete backup and an old partial one: the run must remove both.
    old = r.backup_dir / "alc-portal-20000101T000000Z"
    partial = r.backup_dir / ".alc-portal-20000101T000001Z.partial"
    month_ago = time.time() - 30 * 86400
    for path in (old, partial):
        path.mkdir()
        (path / "database.dump").write_bytes(b"old")
        os.utime(path, (month_ago, month_ago))
    r.counts_before, r.sample = database.snapshot(r.database_url)
    service = r.service("alc-portal-backup.service")
    start = time.monotonic()
    status = service.run_to_end(timeout=3600)
    r.backup_seconds = time.monotonic() - start
    r.check(status == 0, f"alc-portal-backup.service ran deploy/backup: exit status {status}")
    r.counts_after, _ = database.snapshot(
        r.database_url, sample={t: [] for t in database.SAMPLED_TABLES}
    )
    made = [p for p in r.backup_dir.iterdir() if p.name.startswith("alc-portal-")]
    r.check(
        len(made) == 1 and not old.exists() and not partial.exists(),
        f"one backup kept ({made[0].name if made else 'none'}), the month-old ones removed",
    )
    r.backup = made[0]
    sizes = {p.name: p.stat().st_size for p in r.backup.iterdir()}
    r.say(
        f"backup took {r.backup_seconds:.1f} s: "
        + ", ".join(f"{n} {s / 2**20:.1f} MB" for n, s in sizes.items())
    )
    for line in (r.backup / "manifest.txt").read_text().splitlines():
        r.say(f"  {line}")


def restore(r) -> None:
    refused = r.admin.run([RESTORE, r.backup], overrides={"MEDIA_ROOT": str(r.tmp / "not-used")})
    r.check(
        refused.returncode != 0 and "not empty" in refused.stderr,
        f"deploy/restore refuses the live database: {refused.stderr.strip()}",
    )
    r.pg.psql("CREATE DATABASE alc_portal_restored OWNER alc")
    r.restored_url = r.pg.url("alc", r.db_password, "alc_portal_restored")
    r.restored_media = r.tmp / "srv" / "media-restored"
    start = time.monotonic()
    result = r.admin.run(
        [RESTORE, r.backup],
        overrides={"DATABASE_URL": r.restored_url, "MEDIA_ROOT": str(r.restored_media)},
    )
    r.restore_seconds = time.monotonic() - start
    r.check(result.returncode == 0, f"deploy/restore: {(result.stdout + result.stderr).strip()}")
    r.say(f"restore took {r.restore_seconds:.1f} s")
    ids = {table: list(rows) for table, rows in r.sample.items()}
    counts, rows = database.snapshot(r.restored_url, sample=ids)
    compare_counts(r, counts)
    compare_rows(r, rows)
    compare_media(r)


def compare_counts(r, restored: dict[str, int]) -> None:
    before, after = r.counts_before, r.counts_after
    print(f"    {'table':<52} {'backed up':>10} {'restored':>10}")
    wrong = []
    for table in sorted(set(before) | set(restored)):
        low, high = sorted((before.get(table, -1), after.get(table, -1)))
        got = restored.get(table)
        ok = got is not None and low <= got <= high
        if not ok:
            wrong.append(table)
        shown = f"{before.get(table, '-')}" + (f"..{after[table]}" if low != high else "")
        mark = "" if ok else "  DIFFERS"
        print(f"    {table:<52} {shown:>10} {'-' if got is None else got:>10}{mark}")
    r.check(
        not wrong,
        f"row counts of all {len(restored)} tables equal" + (f" except {wrong}" if wrong else ""),
    )


def compare_rows(r, restored: dict[str, dict]) -> None:
    for table, rows in r.sample.items():
        differ = []
        for pk, row in rows.items():
            other = restored[table].get(pk)
            if other != row:
                fields = sorted(k for k in row if other is None or row[k] != other.get(k))
                differ.append(f"id {pk}: {fields}")
        r.check(
            not differ,
            f"{len(rows)} random rows of {table} equal field by field"
            + (f"; differ: {differ[:3]}" if differ else ""),
        )


def files_digest(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): sha256(path.read_bytes())
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def compare_media(r) -> None:
    original, restored = files_digest(r.media_root), files_digest(r.restored_media)
    r.check(
        original == restored and original,
        f"the {len(restored)} media file(s) restored byte for byte",
    )


def restored_portal(r) -> None:
    from .run import STAFF_EMAIL

    port = free_port()
    env = {
        "DATABASE_URL": r.restored_url,
        "MEDIA_ROOT": str(r.restored_media),
        # Its own Redis database: its worker, cache and sign-in records apart from the first.
        "REDIS_URL": r.redis.url(1),
    }
    web = r.service(
        "alc-portal-web.service", label="web-restored", GUNICORN_BIND=f"{LOOPBACK}:{port}",
        GUNICORN_WORKERS="1", **env,
    )  # fmt: skip
    web.start(timeout=180)
    r.worker_start(r.service("alc-portal-worker@.service", instance="restored", **env))
    offset = web.log_size()
    r.nginx.reload([f"{LOOPBACK}:{port}"])
    visitor = Visitor(r.nginx.base, r.cert, monitor_token=r.env["STATUS_TOKEN"])
    wait_for(
        lambda: visitor.healthz()[0] and web.log_has("GET /healthz", offset),
        120,
        "nginx to send requests to the restored portal",
    )
    r.check(True, f"nginx sends requests to the restored portal; /healthz: {visitor.healthz()[1]}")
    r.last_code = visitor.sign_in(STAFF_EMAIL, r.password, r.totp_secret, last_code=r.last_code)
    page = visitor.get("/regions/national/")
    r.check(
        page.status_code == 200 and "London" in page.text,
        "signed in to the restored portal with the same password and TOTP; "
        f"/regions/national/: {page.status_code}",
    )
    path, digest = r.resource
    download = visitor.get(path)
    r.check(
        download.status_code == 200 and sha256(download.content) == digest,
        "the uploaded campaign file downloads from the restored portal byte for byte",
    )
