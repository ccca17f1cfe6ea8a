"""How many requests wait for a person's decision, for the home page and the navigation.

Counted in one query whatever the numbers, through the same access functions as the lists
they lead to, so a count never includes a request its reader could not open."""

import dataclasses

from django.db.models import Func, IntegerField, Subquery
from django.db.models.functions import Coalesce

from members.access import (
    erasure_requests_managed_by,
    join_requests_managed_by,
    may_decide_changes,
    pending_changes_managed_by,
    waivers_managed_by,
)
from members.models import Decision, User


@dataclasses.dataclass(frozen=True)
class PendingDecisions:
    join_requests: int
    profile_changes: int
    # Staff only (None for a representative).
    waivers: int | None = None
    erasures: int | None = None

    @property
    def decisions(self) -> int:
        """What the Decisions page lists: changes, and for staff waivers and erasures."""
        return self.profile_changes + (self.waivers or 0) + (self.erasures or 0)

    @property
    def total(self) -> int:
        """Everything waiting, join requests included: the count beside Decisions in the menu."""
        return self.join_requests + self.decisions


def _count(queryset):
    counted = queryset.order_by().annotate(n=Func("pk", function="COUNT")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def pending_decisions_for(user) -> PendingDecisions | None:
    """The counts for a representative or member of staff; None for anyone else (no query)."""
    if not may_decide_changes(user):
        return None
    counts = {
        "join_requests": _count(join_requests_managed_by(user).filter(status=Decision.PENDING)),
        "profile_changes": _count(pending_changes_managed_by(user)),
    }
    if user.is_national_staff:
        counts["waivers"] = _count(waivers_managed_by(user).filter(status=Decision.PENDING))
        counts["erasures"] = _count(
            erasure_requests_managed_by(user).filter(status=Decision.PENDING)
        )
    return PendingDecisions(**User.objects.filter(pk=user.pk).values(**counts).get())
