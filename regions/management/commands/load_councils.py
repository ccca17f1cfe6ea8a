"""Load ``regions/data/councils.csv`` (or another derived file) into the database. Safe to run
repeatedly; `--dry-run` shows what a file would change, council by council, and writes nothing."""

from pathlib import Path

from django.core.management.base import BaseCommand

from regions.services import councils_load


class Command(BaseCommand):
    help = (
        "Load regions, councils, elections and Labour groups from the council data file "
        "(regions/data/councils.csv by default). With --dry-run, list what it would change."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "file", nargs="?", type=Path, default=None, help="Council data file to load."
        )
        parser.add_argument(
            "--path", type=Path, default=None, help="The same, as an option (older scripts)."
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Show, council by council, what the file would change, and change nothing.",
        )

    def handle(self, *args, file: Path | None, path: Path | None, dry_run: bool, **options):
        result = councils_load(path=file or path, dry_run=dry_run)
        by_council: dict[str, list] = {}
        for change in result.changes:
            by_council.setdefault(change.council, []).append(change)
        for council, changes in sorted(by_council.items()):
            self.stdout.write(council)
            for change in changes:
                self.stdout.write(f"  {change.what}: {change.old} → {change.new}")
        if dry_run:
            self.stdout.write(
                f"Dry run: {len(result.changes)} change(s) to {len(by_council)} council(s); "
                "nothing was written. Run again without --dry-run to apply them."
            )
        else:
            self.stdout.write(str(result))
