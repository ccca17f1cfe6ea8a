"""The work a region's councils hold for whoever runs the region: Labour groups missing a leader,
a secretary or a contact address, councils with fewer councillors on the portal than Labour
seats, and councils with an election within a year.

Each queue is one condition on a council. The home page counts it, for many regions in one
query; the region page lists it, through the filter named in `params`. Both use the same
condition, so a count and the list it links to cannot disagree."""

import dataclasses
import datetime
from collections.abc import Callable

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from .models import Council, CouncilGroup, Election, GroupOfficer

ELECTIONS_AHEAD_DAYS = 365


def without_officer(role: str) -> Q:
    """Councils whose Labour group has nobody holding `role` today."""
    holders = GroupOfficer.objects.current().filter(group__council=OuterRef("pk"), role=role)
    has_group = CouncilGroup.objects.filter(council=OuterRef("pk"))
    return Q(Exists(has_group)) & ~Q(Exists(holders))


def without_contact_address() -> Q:
    """Councils whose Labour group has no contact address to write to."""
    return Q(Exists(CouncilGroup.objects.filter(council=OuterRef("pk"), contact_email="")))


def short_on_portal() -> Q:
    """Councils with fewer serving councillors on the portal than Labour seats."""
    councillors = Council._meta.get_field("councillors").related_model
    serving = (
        councillors.objects.filter(council=OuterRef("pk"), left_on__isnull=True)
        .order_by()
        .values("council")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Q(labour_seats__gt=Coalesce(Subquery(serving, output_field=IntegerField()), 0))


def elections_ahead(on: datetime.date | None = None) -> Q:
    """Councils with a poll from today until a year ahead."""
    on = on or timezone.localdate()
    last = on + datetime.timedelta(days=ELECTIONS_AHEAD_DAYS)
    polls = Election.objects.filter(council=OuterRef("pk"), date__gte=on, date__lte=last)
    return Q(Exists(polls))


# The region page's "Group details missing" filter, by its value.
MISSING = {
    "leader": lambda: without_officer(GroupOfficer.Role.LEADER),
    "secretary": lambda: without_officer(GroupOfficer.Role.SECRETARY),
    "address": without_contact_address,
}


@dataclasses.dataclass(frozen=True)
class Queue:
    name: str
    one: str  # "Labour group has no leader", after "1"
    many: str  # "Labour groups have no leader", after a number other than 1
    none: str  # said when the queue is empty
    condition: Callable[[], Q]
    params: dict  # the region page's filter that lists exactly these councils
    heading: str  # a column heading, where regions are compared in a table


QUEUES = [
    Queue(
        "no_leader",
        "Labour group has no leader recorded",
        "Labour groups have no leader recorded",
        "Every Labour group has a leader recorded.",
        MISSING["leader"],
        {"missing": "leader"},
        "No leader",
    ),
    Queue(
        "no_secretary",
        "Labour group has no secretary recorded",
        "Labour groups have no secretary recorded",
        "Every Labour group has a secretary recorded.",
        MISSING["secretary"],
        {"missing": "secretary"},
        "No secretary",
    ),
    Queue(
        "no_address",
        "Labour group has no contact address",
        "Labour groups have no contact address",
        "Every Labour group has a contact address.",
        MISSING["address"],
        {"missing": "address"},
        "No contact address",
    ),
    Queue(
        "short_on_portal",
        "council has fewer councillors on the portal than Labour seats",
        "councils have fewer councillors on the portal than Labour seats",
        "Every Labour seat has its councillor on the portal.",
        short_on_portal,
        {"portal": "short"},
        "Fewer on the portal than Labour seats",
    ),
    Queue(
        "elections_ahead",
        "council has an election in the next 12 months",
        "councils have an election in the next 12 months",
        "No council has an election in the next 12 months.",
        elections_ahead,
        {"election": "year"},
        "Election within 12 months",
    ),
]


def queue_counts(region_ids) -> dict[int, dict[str, int]]:
    """For each region, how many of its current councils each queue holds: one query whatever
    the number of regions and councils."""
    rows = (
        Council.objects.current()
        .filter(region_id__in=list(region_ids))
        .order_by()
        .values("region_id")
        .annotate(**{q.name: Count("pk", filter=q.condition()) for q in QUEUES})
    )
    counts = {region_id: dict.fromkeys((q.name for q in QUEUES), 0) for region_id in region_ids}
    for row in rows:
        counts[row.pop("region_id")] = row
    return counts
