"""Background jobs for people. Each takes ids and plain values, calls a service, and is safe to
run twice."""

from celery import shared_task

from members.services import councillor_imports, notices, retention


@shared_task
def councillor_import_run(import_id: int) -> str:
    """Apply a confirmed CSV import of more than a thousand rows."""
    return councillor_imports.councillor_import_run(import_id=import_id)


@shared_task
def onboarding_sweep() -> dict:
    """Queue again the imports a lost job left stuck as queued or running with no worker on
    them."""
    return {"imports": councillor_imports.councillor_imports_requeue_stuck()}


@shared_task(acks_late=True, ignore_result=True)
def notices_send() -> int:
    """Send the notices waiting in the outbox (queued after the change they are about)."""
    return notices.notices_send_due()


@shared_task(acks_late=True, ignore_result=True)
def notices_sweep() -> int:
    """Beat's round of the outbox: hand back notices a lost worker held, and send whatever is
    due, so that a notice whose task Redis lost still goes."""
    notices.notices_sweep()
    return notices.notices_send_due()


@shared_task(acks_late=True, ignore_result=True)
def retention_run() -> dict:
    """Daily: remove what the retention table (docs/operations.md) says has been kept long
    enough."""
    return retention.retention_apply()
