"""Load ``regions/data/councils.csv`` into the database. Safe to run repeatedly."""

from pathlib import Path

from django.core.management.base import BaseCommand

from regions.services import councils_load


class Command(BaseCommand):
    help = "Load regions, councils, elections and Labour groups from regions/data/councils.csv."

    def add_arguments(self, parser):
        parser.add_argument(
            "--path", type=Path, default=None, help="Council data file (default: the bundled one)."
        )

    def handle(self, *args, path: Path | None, **options):
        result = councils_load(path=path)
        self.stdout.write(str(result))
