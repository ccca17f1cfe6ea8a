"""Rebuild ``regions/data/councils.csv`` from the public source files.

The source files are not part of the repository; see ``regions/data/README.md`` for where they
come from. This command only reads and writes files: it needs no database.
"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from regions import councildata


class Command(BaseCommand):
    help = "Rebuild the council data file (regions/data/councils.csv) from the source data."
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument(
            "--source",
            type=Path,
            default=Path(settings.BASE_DIR).parent / "shared" / "data",
            help="Directory holding the source files (default: ../shared/data).",
        )
        parser.add_argument(
            "--output",
            type=Path,
            default=councildata.DEFAULT_CSV_PATH,
            help="File to write (default: regions/data/councils.csv).",
        )

    def handle(self, *args, source: Path, output: Path, **options):
        if not source.is_dir():
            raise CommandError(f"Source directory {source} does not exist.")
        try:
            result = councildata.build_council_records(source)
        except (councildata.CouncilDataError, OSError, KeyError, ValueError) as exc:
            raise CommandError(f"Cannot build the council data: {exc}") from exc

        if not output.parent.is_dir():
            raise CommandError(f"Output directory {output.parent} does not exist.")
        for line in result.report:
            self.stdout.write(f"  {line}")
        councildata.write_councils_csv(result.records, output)
        self.stdout.write(self.style.SUCCESS(f"Wrote {len(result.records)} councils to {output}"))

        # Keep the summary tables in the data notes and in docs/data.md in step with it.
        table = councildata.summary_table(councildata.council_data_summary(output))
        readmes = [Path(output).parent / councildata.README_PATH.name]
        if output.resolve() == Path(councildata.DEFAULT_CSV_PATH).resolve():
            # Only the project's own data file is described by docs/data.md.
            readmes.append(councildata.PROJECT_README_PATH)
        for readme in readmes:
            text = readme.read_text(encoding="utf-8") if readme.exists() else ""
            if councildata.SUMMARY_START in text and councildata.update_readme_summary(
                readme, table
            ):
                self.stdout.write(f"Updated the summary table in {readme}")
