from celery import shared_task

from . import services


@shared_task
def councils_reload():
    """Reload the councils from the project's data file (safe to run any number of times)."""
    result = services.councils_load()
    return str(result)
