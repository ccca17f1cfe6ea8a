"""Bring the search index up to date with every person, council, group, mailing and campaign:
`python manage.py search_reindex` writes only the entries that differ, and with `--all`
rewrites every entry (after a change to how text is folded or to the typo keys).
"""

import time

from django.core.management.base import BaseCommand
from django.db import transaction

from search.services import entries_reconcile


class Command(BaseCommand):
    help = "Bring the search index up to date (only what differs, or --all)."

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="Rewrite every entry.")

    def handle(self, *args, **options):
        start = time.monotonic()
        with transaction.atomic():
            counts = entries_reconcile(everything=options["all"])
        self.stdout.write(f"Search index: {counts} ({time.monotonic() - start:.1f} s).")
