"""Background jobs for events, run by beat. Each calls a service and is safe to run twice."""

from celery import shared_task

from events.services import places, reminders, retention


@shared_task(acks_late=True, ignore_result=True)
def events_round() -> dict:
    """Every five minutes: pass each offer of a place not taken in time to the next person
    waiting, and queue the reminders due (each goes once, however often this runs)."""
    return {"offers": offers_expire(), "reminders": reminders_send()}


@shared_task(acks_late=True, ignore_result=True)
def offers_expire() -> int:
    """Pass every offer of a place not taken in time to the next person waiting."""
    return places.offers_expire()


@shared_task(acks_late=True, ignore_result=True)
def reminders_send() -> int:
    """Queue the reminders due now (seven days and one day before each event)."""
    return reminders.reminders_queue()


@shared_task(acks_late=True, ignore_result=True)
def retention_run() -> dict:
    """Daily: delete access needs and dietary requirements kept long enough."""
    return retention.retention_apply()
