"""Background jobs for the search index."""

from celery import shared_task

from search.services import entries_reconcile


@shared_task(acks_late=True, ignore_result=True)
def search_reconcile() -> str:
    """Nightly: mend any entry that differs from its object (something changed without a
    signal), and remove entries whose object is gone."""
    return str(entries_reconcile())
