"""Background jobs for onboarding. Each takes ids and plain values and is safe to run twice."""

import functools

from celery import shared_task

from members.services import onboarding, profile, roles

# A task that sends mail. SMTP errors are OSErrors: a mail server that is down or busy is tried
# again later.
mail_task = functools.partial(
    shared_task, autoretry_for=(OSError,), retry_backoff=30, retry_backoff_max=600, max_retries=8
)


@mail_task
def invitation_send(join_request_id: int) -> bool:
    """Email the invitation for an approved join request (no-op if it has been sent)."""
    return onboarding.invitation_send(join_request_id=join_request_id)


@mail_task
def existing_account_notice_send(email: str) -> bool:
    """Tell the owner of an address that someone asked to join with it (see join_request_submit)."""
    return onboarding.existing_account_notice_send(email=email)


@shared_task
def councillor_import_run(import_id: int) -> str:
    """Apply a confirmed CSV import of more than a thousand rows."""
    return onboarding.councillor_import_run(import_id=import_id)


@mail_task
def join_request_notify(join_request_id: int) -> int:
    """Tell those who decide a new join request that it is waiting (no-op once done)."""
    return onboarding.join_request_notify(join_request_id=join_request_id)


@shared_task
def onboarding_sweep() -> dict:
    """Queue again what a lost job left waiting: imports stuck as queued or running with no
    worker on them, and approved join requests whose invitation never went."""
    return {
        "imports": onboarding.councillor_imports_requeue_stuck(),
        "invitations": onboarding.invitations_requeue_unsent(),
    }


# Notices of people's requests and of the decisions on them (members.services.profile), and of
# an appointment as regional representative and of its end (members.services.roles). Each is
# sent once.
@mail_task
def profile_change_request_notify(change_id: int) -> int:
    return profile.profile_change_request_notify(change_id=change_id)


@mail_task
def profile_change_decision_notify(change_id: int) -> int:
    return profile.profile_change_decision_notify(change_id=change_id)


@mail_task
def levy_waiver_application_notify(waiver_id: int) -> int:
    return profile.levy_waiver_application_notify(waiver_id=waiver_id)


@mail_task
def levy_waiver_decision_notify(waiver_id: int) -> int:
    return profile.levy_waiver_decision_notify(waiver_id=waiver_id)


@mail_task
def representative_appointment_notify(appointment_id: int) -> bool:
    return roles.representative_appointment_notify(appointment_id=appointment_id)


@mail_task
def representative_removal_notify(appointment_id: int) -> bool:
    return roles.representative_removal_notify(appointment_id=appointment_id)
