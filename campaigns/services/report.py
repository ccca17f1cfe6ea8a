"""The final report of a mailing: what became of each address, by group, and a CSV of it.

Each Delivery records the Labour group its address was chosen for, and the mailing records the
groups that had no address to write to when sending started, so staff can see that every group
got the mailing once, or why not. Every read here is one query, whatever the row count.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django.db.models import Count, Exists, F, OuterRef, Q
from django.utils import timezone

from members.imports import spreadsheet_cell

from ..models import Delivery

DStatus = Delivery.Status
# The CSV's columns: each one's heading, and the delivery's value it holds.
CSV_COLUMNS = [
    ("region", "group__council__region__name"),
    ("council", "group__council__name"),
    ("group", "group__name"),
    ("email", "email"),
    ("status", "status"),
    ("sent_at", "sent_at"),
    ("attempts", "attempts"),
    ("last_error", "last_error"),
    # Letters by post: their channel is "post", their status "to_print" or "printed" (sent_at
    # is when first printed), and they have a postal address rather than an email.
    ("channel", "channel"),
    ("postal_address", "context__postal_address"),
    ("printed_by", "printed_by__email"),
]
CSV_HEADER = [heading for heading, _value in CSV_COLUMNS]
SENT_AT = CSV_HEADER.index("sent_at")


def report_by_group(deliveries) -> list[dict]:
    """One row per group: its region, council and name, and its addresses counted by what
    became of them. Deliveries recorded without a group (before groups were recorded, or whose
    group has since been deleted) make one row with blank names."""

    def counted(*statuses):
        return Count("pk", filter=Q(status__in=statuses))

    return list(
        deliveries.values(
            "group_id",
            region=F("group__council__region__name"),
            council=F("group__council__name"),
            group_name=F("group__name"),
        )
        .annotate(
            sent=counted(DStatus.SENT),
            failed=counted(DStatus.FAILED),
            suppressed=counted(DStatus.SUPPRESSED),
            cancelled=counted(DStatus.CANCELLED),
            waiting=counted(DStatus.PENDING, DStatus.CLAIMED),
            to_print=counted(DStatus.TO_PRINT),
            printed=counted(DStatus.PRINTED),
        )
        .order_by("region", "council", "group_name", "group_id")
    )


class _Echo:
    def write(self, value):
        return value


def report_csv_lines(deliveries) -> Iterator[str]:
    """The report as CSV lines, one per delivery, streamed from one query."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(CSV_HEADER)
    rows = deliveries.order_by(
        "group__council__region__name", "group__council__name", "group__name", "email", "pk"
    ).values_list(*(value for _heading, value in CSV_COLUMNS))
    for row in rows.iterator(2000):
        sent_at = row[SENT_AT]
        sent = timezone.localtime(sent_at).isoformat(timespec="seconds") if sent_at else ""
        values = [*row[:SENT_AT], sent, *row[SENT_AT + 1 :]]
        yield writer.writerow([spreadsheet_cell(v) for v in values])


# The mailing list's filters: query value -> label.
APPROVAL_FILTERS = {
    "awaiting": "Awaiting approval",
    "approved": "Approved, not sent",
    "scheduled": "Scheduled",
    "sending": "Sending or paused",
    "failed": "With failed messages",
}


def mailings_filter_approval(mailings, show: str):
    """Mailings awaiting approval, approved but not yet sending (draft or scheduled),
    scheduled, sending (or paused), or with messages that failed for good; any other value
    leaves them as they are."""
    Status = mailings.model.Status
    if show == "awaiting":
        return mailings.filter(status=Status.AWAITING_APPROVAL)
    if show == "approved":
        return mailings.filter(
            approved_by__isnull=False, status__in=(Status.DRAFT, Status.SCHEDULED)
        )
    if show == "scheduled":
        return mailings.filter(status=Status.SCHEDULED)
    if show == "sending":
        return mailings.filter(status__in=(Status.SENDING, Status.PAUSED))
    if show == "failed":
        failed = Delivery.objects.filter(mailing=OuterRef("pk"), status=Delivery.Status.FAILED)
        return mailings.filter(Exists(failed))
    return mailings
