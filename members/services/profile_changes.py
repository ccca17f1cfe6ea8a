"""Writes for council and ward changes a councillor asks for: decided by the representatives of
the regions concerned (or the national office), with the people concerned told by email."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from members.models import Councillor, Decision, ProfileChange, User
from members.selectors import deciders_in_regions, portal_link
from members.services.councillors import group_offices_end
from members.services.notices import decision_notice_queue, notices_queue_each, occasion_stamp


@transaction.atomic
def profile_change_decide(
    *, change: ProfileChange, by: User, approve: bool, reason: str = ""
) -> ProfileChange:
    """Approve (apply the new council and ward) or refuse (keep the old ones) a pending change.

    A councillor who moves council leaves, that day, the offices they held in their old
    council's Labour group."""
    change = ProfileChange.objects.select_for_update().get(pk=change.pk)
    if change.status != Decision.PENDING:
        raise ValidationError("This change has already been decided.")
    if (
        approve
        and Councillor.objects.filter(pk=change.councillor_id, left_on__isnull=False).exists()
    ):
        raise ValidationError("They are no longer a councillor, so the change cannot be approved.")
    change.decision_record(by=by, approve=approve, reason=reason)
    change._change_reason = f"{change.get_status_display()} by {by}"
    change.save()
    if approve:
        councillor = Councillor.objects.select_for_update().get(pk=change.councillor_id)
        councillor.council_id, councillor.ward = change.council_id, change.ward
        councillor._change_reason = f"Council and ward change approved by {by}"
        councillor.save(update_fields=["council", "ward"])
        group_offices_end(
            user_ids=[councillor.user_id],
            on=timezone.localdate(),
            reason=f"Term ended: moved to another council (approved by {by})",
            by=by,
            councils_kept={councillor.user_id: councillor.council_id},
        )
    profile_change_decision_notice_queue(change=change)
    return change


def profile_change_deciders(change: ProfileChange) -> tuple[list[User], bool]:
    """Who is told of a council or ward change request: those who decide for the region of the
    council asked for and for the councillor's present council's region."""
    return deciders_in_regions({change.council.region_id, change.councillor.council.region_id})


def profile_change_request_notices_queue(*, change: ProfileChange) -> int:
    """Tell those who decide a council or ward change that it is waiting. Returns how many were
    queued: none when this request (as of when it was made) was queued before."""
    change = ProfileChange.objects.select_related(
        "councillor__user", "councillor__council__region", "council__region"
    ).get(pk=change.pk)
    deciders, has_representative = profile_change_deciders(change)
    context = {
        "change": change,
        "councillor": change.councillor,
        "has_representative": has_representative,
        "link": portal_link("decisions_change", change.pk),
    }
    return notices_queue_each(
        deciders,
        kind="change_requested",
        occasion=f"{change.pk}:{occasion_stamp(change.requested_at)}",
        template="members/email/decision_change_requested",
        context=context,
    )


def profile_change_decision_notice_queue(*, change: ProfileChange) -> bool:
    """Tell the councillor whether their council or ward change was approved, with the reason
    given."""
    change = ProfileChange.objects.select_related("councillor__user", "council").get(pk=change.pk)
    return decision_notice_queue(
        change,
        kind="change_decided",
        template="members/email/decision_change_decided",
        context={"change": change, "link": portal_link("profile")},
    )
