"""Writes for levy waivers: a serving councillor applies for a year, the national office
decides, and both are told by email."""

from django.core.exceptions import ValidationError
from django.db import transaction

from members.access import WAIVER_ACTION, require_serving_councillor
from members.models import Councillor, Decision, LevyWaiver, User
from members.selectors import national_staff_to_notify, portal_link
from members.services.notices import decision_notice_queue, notices_queue_each


@transaction.atomic
def levy_waiver_apply(*, councillor: Councillor, year: int, circumstances: str) -> LevyWaiver:
    """Apply for a levy waiver for a year. One live (pending or approved) application a year;
    only a serving councillor may apply (PermissionDenied otherwise)."""
    councillor = Councillor.objects.select_for_update().get(pk=councillor.pk)
    require_serving_councillor(councillor, action=WAIVER_ACTION)
    live = councillor.levy_waivers.filter(year=year).exclude(status=Decision.REFUSED)
    if live.exists():
        raise ValidationError(
            f"You already have a levy waiver application for {year}. "
            "You can apply again only if that one is refused."
        )
    waiver = LevyWaiver.objects.create(
        councillor=councillor, year=year, circumstances=circumstances, declaration=True
    )
    levy_waiver_application_notices_queue(waiver=waiver)
    return waiver


@transaction.atomic
def levy_waiver_decide(*, waiver: LevyWaiver, by: User, approve: bool, reason: str = "") -> None:
    waiver = LevyWaiver.objects.select_for_update().get(pk=waiver.pk)
    if waiver.status != Decision.PENDING:
        raise ValidationError("This application has already been decided.")
    if not approve and not reason.strip():
        raise ValidationError("Give a reason for refusing.")
    waiver.decision_record(by=by, approve=approve, reason=reason)
    waiver._change_reason = f"{waiver.get_status_display()} by {by}"
    waiver.save()
    levy_waiver_decision_notice_queue(waiver=waiver)


def levy_waiver_application_notices_queue(*, waiver: LevyWaiver) -> int:
    """Tell the national office staff that a levy waiver application is waiting. The message
    names the applicant but leaves their circumstances to the portal."""
    waiver = LevyWaiver.objects.select_related("councillor__user", "councillor__council").get(
        pk=waiver.pk
    )
    context = {"waiver": waiver, "link": portal_link("decisions_waiver", waiver.pk)}
    return notices_queue_each(
        national_staff_to_notify(),
        kind="waiver_applied",
        occasion=waiver.pk,
        template="members/email/waiver_applied",
        context=context,
    )


def levy_waiver_decision_notice_queue(*, waiver: LevyWaiver) -> bool:
    """Tell the councillor the decision on their application (and the reason for a refusal)."""
    waiver = LevyWaiver.objects.select_related("councillor__user").get(pk=waiver.pk)
    return decision_notice_queue(
        waiver,
        kind="waiver_decided",
        template="members/email/waiver_decided",
        context={"waiver": waiver, "link": portal_link("levy_waiver")},
    )
