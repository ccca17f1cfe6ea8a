"""Background jobs for onboarding. Each takes ids and plain values and is safe to run twice."""

from celery import shared_task

from members.services import onboarding


# SMTP errors are OSErrors: a mail server that is down or busy is tried again later.
@shared_task(autoretry_for=(OSError,), retry_backoff=30, retry_backoff_max=600, max_retries=8)
def invitation_send(join_request_id: int) -> bool:
    """Email the invitation for an approved join request (no-op if it has been sent)."""
    return onboarding.invitation_send(join_request_id=join_request_id)


@shared_task(autoretry_for=(OSError,), retry_backoff=30, retry_backoff_max=600, max_retries=8)
def existing_account_notice_send(email: str) -> bool:
    """Tell the owner of an address that someone asked to join with it (see join_request_submit)."""
    return onboarding.existing_account_notice_send(email=email)


@shared_task
def councillor_import_run(import_id: int) -> str:
    """Apply a confirmed CSV import of more than a thousand rows."""
    return onboarding.councillor_import_run(import_id=import_id)
