"""The export log: every download of personal data, recorded as it is taken."""

from members.models import ExportLogEntry, User


def export_record(*, by: User, kind: str, subject: str, rows: int) -> ExportLogEntry:
    """Note that `by` is downloading `rows` rows of personal data of this `kind` about
    `subject` (a region, a mailing, a person: named, never copied). Call it once per download,
    before the data leaves, from every view that gives personal data away."""
    return ExportLogEntry.objects.create(
        user=by,
        kind=kind,
        subject=subject[: ExportLogEntry._meta.get_field("subject").max_length],
        rows=rows,
    )
