"""Writes for CSV imports: a file is previewed row by row, then applied all at once (as a
background job for large files) or not at all. The machinery here (preview, confirm, the
background run with its progress, the sweep of lost jobs) serves both kinds of import: of
councillors, written here, and of Labour groups' details, written by group_imports. Reading and
checking the files is members.imports and members.group_imports."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from members import group_imports, imports
from members.models import Councillor, CouncillorImport, JoinRequest, User
from members.selectors import portal_link
from members.services.councillors import group_offices_end
from members.services.invitations import invitation_record, invitations_queue_many
from members.services.notices import notice_queue
from members.signals import councillors_written_in_bulk
from regions.models import Council

log = logging.getLogger(__name__)

# Advisory-lock namespace, so two workers never apply the same import at once.
IMPORT_LOCK_BASE = 7_300_000_000
# Two-key advisory lock (namespace, region): two imports for a region are applied one after
# the other.
REGION_IMPORT_LOCK_SPACE = 7302


def _region_import_lock(region_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, %s)", [REGION_IMPORT_LOCK_SPACE, region_id]
        )


def _planned(kind: str, text: str, region) -> tuple[int, dict]:
    """How many rows a file of this kind has, and what importing it into the region would do."""
    if kind == CouncillorImport.Kind.GROUPS:
        rows = imports.read_rows(text, group_imports.GROUP_FILE)
        return len(rows), group_imports.group_import_plan(rows, region=region)
    rows = imports.read_rows(text)
    return len(rows), imports.import_plan(rows, region=region)


def _written(kind: str, plan: dict, *, by: User | None, reason: str, on_progress=None) -> None:
    """Write the rows of an error-free plan of this kind. Call inside a transaction."""
    if kind == CouncillorImport.Kind.GROUPS:
        from members.services.group_imports import group_plan_write

        group_plan_write(plan, by=by, reason=reason, on_progress=on_progress)
    else:
        _write_plan(plan, by=by, reason=reason, on_progress=on_progress)


def councillor_import_preview(
    *,
    region,
    uploaded_by: User,
    filename: str,
    raw: bytes,
    kind: str = CouncillorImport.Kind.COUNCILLORS,
):
    """Check an uploaded file (of councillors, or of groups' details) and keep it, with its
    row-by-row report, until it is confirmed.

    Raises imports.ImportFileError when the file as a whole cannot be read.
    """
    text, warnings = imports.decode_upload_noting(raw)
    total, plan = _planned(kind, text, region)
    plan["warnings"] = warnings
    return CouncillorImport.objects.create(
        kind=kind,
        region=region,
        uploaded_by=uploaded_by,
        filename=filename[:255],
        content=text,
        total_rows=total,
        report=plan,
    )


def councillor_import_confirm(*, councillor_import: CouncillorImport) -> CouncillorImport:
    """Apply a previewed import: at once for small files, as a background job for large ones.

    Refused (ValidationError) while the report has errors or if it was confirmed already. An
    import that failed for a reason other than its file (see CouncillorImport.is_recoverable) may
    be confirmed again.
    """
    with transaction.atomic():
        imp = (
            CouncillorImport.objects.select_for_update(of=("self",))
            .select_related("region", "uploaded_by")
            .get(pk=councillor_import.pk)
        )
        if not (imp.is_previewed or imp.is_recoverable):
            raise ValidationError("This import has already been confirmed.")
        if imp.report.get("counts", {}).get("error"):
            raise ValidationError(
                "The file has errors. Correct them and upload the file again; nothing has been "
                "imported."
            )
        imp.report.pop("error", None)
        if imp.total_rows > imports.BACKGROUND_ROWS:
            imp.status = CouncillorImport.Status.QUEUED
            imp.processed_rows = 0
            imp.report["queued_at"] = timezone.now().isoformat()
            imp.save(update_fields=["status", "processed_rows", "report"])
            transaction.on_commit(lambda: _queue_import(imp.pk))
        else:
            _region_import_lock(imp.region_id)
            plan = _plan_write(imp)
            imp.report = plan
            if plan["counts"]["error"]:
                imp.status = CouncillorImport.Status.PREVIEWED
                imp.save(update_fields=["report", "status"])
            else:
                imp.status = CouncillorImport.Status.DONE
                imp.processed_rows = imp.total_rows
                imp.content = ""  # applied: the report is the record, the file is not kept
                imp.save(update_fields=["report", "status", "processed_rows", "content"])
    if imp.status == CouncillorImport.Status.QUEUED:
        # Queued once the transaction committed: if that failed (the broker is down), the
        # import was marked as failed and may be confirmed again.
        imp.refresh_from_db(fields=["status", "report"])
        if imp.status == CouncillorImport.Status.FAILED:
            raise ValidationError(imp.report.get("error") or IMPORT_NOT_STARTED)
        return imp
    if imp.status != CouncillorImport.Status.DONE:
        raise ValidationError(
            "What the portal holds changed since the preview and the file now has errors: see the "
            "report. Nothing has been imported."
        )
    return imp


IMPORT_NOT_STARTED = (
    "The import could not be started because the background job service is not answering. "
    "Nothing has been imported. Try again in a few minutes."
)


IMPORT_INTERRUPTED = (
    "The import stopped because of a problem on the portal, not in the file, and nothing was "
    "saved. Try again; if it fails again, tell the national office."
)


# An import still queued or running after this long, with no worker holding it, is queued again.
IMPORT_STUCK_MINUTES = 15


def _queue_import(import_id: int) -> bool:
    """Queue the background job for an import; if the broker cannot take it, mark the import
    as failed (with the reason) so that it can be confirmed again, instead of an error page."""
    from members.tasks import councillor_import_run

    try:
        councillor_import_run.delay(import_id)
    except Exception:
        log.exception("Could not queue councillor import %s", import_id)
        _import_fail(import_id, IMPORT_NOT_STARTED, statuses=[CouncillorImport.Status.QUEUED])
        return False
    return True


def _import_fail(import_id: int, reason: str, *, statuses) -> None:
    """Mark an import as failed for `reason`, keeping its file so it can be tried again."""
    with transaction.atomic():
        imp = (
            CouncillorImport.objects.select_for_update(of=("self",))
            .select_related("region", "uploaded_by")
            .filter(pk=import_id, status__in=statuses)
            .first()
        )
        if imp is None:
            return
        imp.report["error"] = reason
        imp.status = CouncillorImport.Status.FAILED
        imp.processed_rows = 0
        imp.save(update_fields=["report", "status", "processed_rows"])
        import_result_notice_queue(councillor_import=imp)


def import_result_notice_queue(*, councillor_import: CouncillorImport) -> bool:
    """Tell whoever uploaded a file that ran in the background how it went: it takes minutes,
    and they may have left the page. Once per outcome (an import tried again after a failure
    is told of again)."""
    imp = councillor_import
    if imp.uploaded_by is None or not imp.uploaded_by.is_active:
        return False
    return notice_queue(
        kind="import_result",
        occasion=f"{imp.pk}:{imp.status}:{imp.report.get('queued_at', '')}",
        to=imp.uploaded_by,
        template="members/email/import_result",
        context={
            "import": imp,
            "counts": imp.report.get("counts", {}),
            "link": portal_link("import_detail", imp.pk),
        },
    )


def councillor_imports_requeue_stuck(*, minutes: int = IMPORT_STUCK_MINUTES) -> list[int]:
    """Queue again the imports queued or running for more than `minutes` that no worker holds
    (the job was lost with the broker's data, or its worker died). Returns their ids.

    A worker applying an import holds its advisory lock until it commits or rolls back, so an
    import whose lock is free is not being applied; running the job twice is harmless.
    """
    Status = CouncillorImport.Status
    cutoff = timezone.now() - timedelta(minutes=minutes)
    requeued = []
    candidates = CouncillorImport.objects.filter(
        status__in=[Status.QUEUED, Status.RUNNING], uploaded_at__lt=cutoff
    ).values_list("pk", "report__queued_at")
    for pk, queued_at in candidates:
        if queued_at and datetime.fromisoformat(queued_at) >= cutoff:
            continue
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [IMPORT_LOCK_BASE + pk])
            if not cursor.fetchone()[0]:
                continue  # a worker is applying it now
            cursor.execute("SELECT pg_advisory_unlock(%s)", [IMPORT_LOCK_BASE + pk])
        CouncillorImport.objects.filter(pk=pk).update(status=Status.QUEUED, processed_rows=0)
        if _queue_import(pk):
            requeued.append(pk)
    return requeued


def _plan_write(imp: CouncillorImport, on_progress=None) -> dict:
    """Check the import's file against the councillors as they are now and, if it has no
    errors, write it. Returns the plan: if it has errors, nothing was written.

    Call inside a transaction holding the region's import lock. Imports for the region take
    turns, but an address can still be given an account meanwhile another way (a
    representative adding someone, an import for another region): the write then fails on the
    unique address, is undone, and the file is checked again, which reports the address as in
    use.
    """
    _total, plan = _planned(imp.kind, imp.content, imp.region)
    if plan["counts"]["error"]:
        return plan
    try:
        with transaction.atomic():
            _written(
                imp.kind,
                plan,
                by=imp.uploaded_by,
                reason=f"Import of {imp.filename}",
                on_progress=on_progress,
            )
    except IntegrityError:
        _total, plan = _planned(imp.kind, imp.content, imp.region)
        if not plan["counts"]["error"]:
            raise
    return plan


def councillor_import_run(*, import_id: int) -> str:
    """Apply a queued import in one transaction, reporting progress as it goes.

    Progress is written through a second database connection, so the page polling it sees
    rows counted while the import's own transaction is still open. Safe to run twice.
    """
    Status = CouncillorImport.Status
    claimed = CouncillorImport.objects.filter(
        pk=import_id, status__in=[Status.QUEUED, Status.RUNNING]
    ).update(status=Status.RUNNING, processed_rows=0)
    if not claimed:
        return "not queued"

    table = CouncillorImport._meta.db_table
    progress_db = connections.create_connection(DEFAULT_DB_ALIAS)

    def report_progress(count: int) -> None:
        with progress_db.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET processed_rows = %s WHERE id = %s",  # noqa: S608
                [count, import_id],
            )

    try:
        with transaction.atomic():
            with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [IMPORT_LOCK_BASE + import_id])
            imp = CouncillorImport.objects.select_related("region", "uploaded_by").get(pk=import_id)
            if imp.status != Status.RUNNING:
                return "already finished"
            _region_import_lock(imp.region_id)
            plan = _plan_write(imp, on_progress=report_progress)
            if plan["counts"]["error"]:
                CouncillorImport.objects.filter(pk=import_id).update(
                    status=Status.FAILED, report=plan, processed_rows=0, content=""
                )
                imp.status, imp.report = Status.FAILED, plan
                import_result_notice_queue(councillor_import=imp)
                return "failed: the file has errors"
            progress_db.close()
            CouncillorImport.objects.filter(pk=import_id).update(
                status=Status.DONE, report=plan, processed_rows=imp.total_rows, content=""
            )
            imp.status, imp.report = Status.DONE, plan
            import_result_notice_queue(councillor_import=imp)
    except Exception:
        # Nothing was written (the transaction rolled back); the file is kept so that the
        # person can try again once the cause has gone.
        log.exception("Councillor import %s failed", import_id)
        _import_fail(import_id, IMPORT_INTERRUPTED, statuses=[Status.RUNNING])
        raise
    finally:
        progress_db.close()
    return "done"


def _write_plan(plan: dict, *, by: User | None, reason: str, on_progress=None) -> None:
    """Write the rows of an error-free plan, in chunks. Call inside a transaction."""
    all_rows = plan["rows"]
    size = settings.IMPORT_CHUNK_ROWS
    for start in range(0, len(all_rows), size):
        chunk = all_rows[start : start + size]
        _write_chunk(
            [row for row in chunk if row["action"] in ("create", "update")], by=by, reason=reason
        )
        if on_progress:
            on_progress(start + len(chunk))


def _write_chunk(rows: list[dict], *, by: User | None, reason: str) -> None:
    creates = [row for row in rows if row["action"] == "create"]
    # A planned creation is always a new person: the plan refuses any address already in use.
    new_users = [
        User(email=row["email"], full_name=row["full_name"], password=make_password(None))
        for row in creates
    ]
    if new_users:
        bulk_create_with_history(new_users, User, default_user=by, default_change_reason=reason)
        EmailAddress.objects.bulk_create(
            EmailAddress(user=user, email=user.email, verified=False, primary=True)
            for user in new_users
        )
    user_ids = {user.email: user.pk for user in new_users}
    imported_people_invite(new_users, creates, by=by, reason=reason)
    if creates:
        bulk_create_with_history(
            [
                Councillor(
                    user_id=user_ids[row["email"]],
                    council_id=row["council_id"],
                    ward=row["ward"],
                    phone=row["phone"],
                )
                for row in creates
            ],
            Councillor,
            default_user=by,
            default_change_reason=reason,
        )
        councillors_written_in_bulk.send(sender=Councillor, user_ids=list(user_ids.values()))

    updates = {row["councillor_id"]: row for row in rows if row["action"] == "update"}
    if not updates:
        return
    councillors = Councillor.objects.select_related("user").in_bulk(list(updates))
    renamed, moved = [], {}
    for pk, councillor in councillors.items():
        row = updates[pk]
        changes = row["changes"]
        if "full_name" in changes:
            councillor.user.full_name = row["full_name"]
            renamed.append(councillor.user)
        if "council" in changes:
            moved[councillor.user_id] = row["council_id"]
        councillor.council_id = row["council_id"]
        councillor.ward = row["ward"]
        if "phone" in changes:
            councillor.phone = row["phone"]
        councillor.left_on = None
    bulk_update_with_history(
        list(councillors.values()),
        Councillor,
        ["council", "ward", "phone", "left_on"],
        default_user=by,
        default_change_reason=reason,
    )
    if renamed:
        bulk_update_with_history(
            renamed, User, ["full_name"], default_user=by, default_change_reason=reason
        )
    councillors_written_in_bulk.send(
        sender=Councillor, user_ids=[councillor.user_id for councillor in councillors.values()]
    )
    if moved:
        group_offices_end(
            user_ids=moved,
            on=timezone.localdate(),
            reason=f"Term ended: moved to another council ({reason})",
            by=by,
            councils_kept=moved,
        )


def imported_people_invite(new_users: list[User], rows: list[dict], *, by, reason: str) -> None:
    """New people from an import are invited like anyone else a representative adds: an
    approved join request records it, and the invitation goes once the import commits."""
    if not new_users:
        return
    row_for = {row["email"]: row for row in rows}
    # The invitation names the council: fetched once for the chunk, not once per person.
    councils = Council.objects.in_bulk({row["council_id"] for row in rows})
    now = timezone.now()
    records = JoinRequest.objects.bulk_create(
        invitation_record(
            full_name=user.full_name,
            email=user.email,
            council=councils[row_for[user.email]["council_id"]],
            ward=row_for[user.email]["ward"],
            by=by,
            at=now,
            reason=reason,
        )
        for user in new_users
    )
    by_email = {user.email: user for user in new_users}
    invitations_queue_many([(record, by_email[record.email]) for record in records])
