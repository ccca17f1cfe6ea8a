"""How long the portal keeps what (docs/operations.md, "Retention"): each job removes exactly
what the table there says, run daily by beat (members.tasks.retention_run)."""

from datetime import timedelta

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db.models import CharField, Q, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from members.models import CouncillorImport, Decision, JoinRequest, Notice


def sessions_expired_clear() -> int:
    """Sessions past their expiry date: nobody can use them any more."""
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted


def import_files_clear(*, days: int | None = None) -> int:
    """The uploaded file of a councillor import that was never applied (a preview left
    unconfirmed, or an import that failed), once `days` (IMPORT_FILE_DAYS) have passed since it
    was uploaded. An applied import keeps no file already; its report stays as the record."""
    days = settings.IMPORT_FILE_DAYS if days is None else days
    cutoff = timezone.now() - timedelta(days=days)
    return (
        CouncillorImport.objects.filter(uploaded_at__lt=cutoff)
        .filter(status__in=[CouncillorImport.Status.PREVIEWED, CouncillorImport.Status.FAILED])
        .exclude(content="")
        .update(content="")
    )


def join_requests_purge(*, days: int | None = None) -> int:
    """Requests to join that were refused, or that nobody decided, `days` (JOIN_REQUEST_DAYS)
    after they were made or decided. Approved ones stay: they are how an account began."""
    days = settings.JOIN_REQUEST_DAYS if days is None else days
    cutoff = timezone.now() - timedelta(days=days)
    doomed = JoinRequest.objects.filter(asked_to_join=True).filter(
        Q(status=Decision.REFUSED, decided_at__lt=cutoff)
        | Q(status=Decision.PENDING, requested_at__lt=cutoff)
    )
    deleted, _ = doomed.delete()
    return deleted


def notices_anonymise(*, days: int | None = None) -> int:
    """The address and wording of the portal's emails, `days` (NOTICE_DAYS) after they were
    sent or given up on; what was sent, and when, stays for the counts."""
    days = settings.NOTICE_DAYS if days is None else days
    cutoff = timezone.now() - timedelta(days=days)
    old = Notice.objects.filter(updated_at__lt=cutoff).exclude(
        status__in=[Notice.Status.QUEUED, Notice.Status.SENDING]
    )
    return old.exclude(to_email__endswith="@invalid").update(
        to_email=Concat(Value("removed-"), Cast("pk", CharField()), Value("@invalid")),
        subject="",
        body_text="",
        body_html="",
        attachments=[],
        last_error="",
        to_user=None,
    )


def retention_apply() -> dict:
    """Every retention job of the members app; returns how many rows each touched."""
    return {
        "sessions": sessions_expired_clear(),
        "import_files": import_files_clear(),
        "join_requests": join_requests_purge(),
        "notices": notices_anonymise(),
    }
