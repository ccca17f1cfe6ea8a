"""Writes for councillors as their representative (or the national office) keeps them: added by
hand, edited, marked as no longer a councillor, and reinstated."""

from __future__ import annotations

from datetime import date

from allauth.account.models import EmailAddress
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from members import imports
from members.access import address_change_refusal
from members.models import Councillor, Decision, LevyWaiver, ProfileChange, User
from members.services.accounts import AddressTaken, account_create_invited, email_lock
from members.services.invitations import (
    invitation_queue,
    invitation_record,
    invitation_record_and_queue,
)
from members.services.notices import notices_cancel
from regions.models import Council, GroupOfficer

EMAIL_TAKEN = "This email address already has an account."


LEFT_ON_FUTURE = (
    "The date cannot be in the future. Come back on the day they stop being a councillor, or "
    "enter a date that has passed."
)


@transaction.atomic
def councillor_add(
    *, council: Council, full_name: str, email: str, ward: str, phone: str, by: User
) -> Councillor:
    """A councillor added by their representative. An approved join request records who added
    them and when the invitation went, exactly as for someone who asked to join."""
    email = email.strip().lower()
    email_lock(email)
    try:
        user = account_create_invited(email=email, full_name=full_name)
    except AddressTaken:
        raise ValidationError({"email": EMAIL_TAKEN}) from None
    councillor = Councillor(user=user, council=council, ward=ward, phone=phone)
    councillor._change_reason = "Added by a representative"
    councillor.save()
    record = invitation_record(
        full_name=full_name,
        email=email,
        council=council,
        ward=ward,
        by=by,
        reason="Added by a representative.",
    )
    record.save()
    invitation_queue(join_request=record, user=user)
    return councillor


@transaction.atomic
def councillor_update(
    *, councillor: Councillor, full_name: str, ward: str, phone: str
) -> Councillor:
    user = councillor.user
    if user.full_name != full_name:
        user.full_name = full_name
        user._change_reason = "Name changed by a representative"
        user.save(update_fields=["full_name"])
    councillor.ward = ward
    councillor.phone = phone
    councillor._change_reason = "Edited by a representative"
    councillor.save(update_fields=["ward", "phone"])
    return councillor


@transaction.atomic
def councillor_details_save(
    *, councillor: Councillor, full_name: str, ward: str, phone: str, email: str, by: User
) -> bool:
    """A representative's edit of a councillor: name, ward and phone, and, while the invitation
    has not been taken up, a corrected email address, to which a new invitation goes.

    Returns whether an invitation was queued.
    """
    corrected = councillor_email_correct(councillor=councillor, email=email, by=by)
    councillor_update(councillor=councillor, full_name=full_name, ward=ward, phone=phone)
    return corrected and councillor.left_on is None


@transaction.atomic
def councillor_email_correct(*, councillor: Councillor, email: str, by: User) -> bool:
    """Correct the address of someone who has not taken up their invitation, and, if they are
    still serving, invite them again at the new one. Returns False when it is unchanged.

    The address must be free, as when they were added. The token in the earlier invitation
    depends on the address, so the link sent to the mistyped one stops working.
    """
    user = User.objects.select_for_update().get(pk=councillor.user_id)
    if email.strip().lower() == user.email.lower():
        return False
    try:
        email = imports.clean_email(email)
    except ValidationError as exc:
        raise ValidationError({"email": exc.messages}) from None
    refusal = address_change_refusal(by, user, new_email=email)
    if refusal is not None:
        raise ValidationError({"email": refusal})
    if imports.email_in_use(email):
        raise ValidationError({"email": EMAIL_TAKEN})
    old_email = user.email
    user.email = email
    user._change_reason = "Email address corrected by a representative"
    try:
        with transaction.atomic():
            user.save(update_fields=["email"])
    except IntegrityError:
        # Taken by another account between the check and the save.
        raise ValidationError({"email": EMAIL_TAKEN}) from None
    updated = EmailAddress.objects.filter(user=user, email__iexact=old_email).update(
        email=email, verified=False
    )
    if not updated:
        EmailAddress.objects.create(user=user, email=email, verified=False, primary=True)
    councillor.user = user
    if councillor.left_on is None:
        invitation_record_and_queue(
            councillor=councillor,
            user=user,
            by=by,
            reason="Email address corrected; invited again.",
        )
    return True


def group_offices_end(
    *,
    user_ids,
    on: date,
    reason: str,
    by: User | None = None,
    councils_kept: dict[int, int] | None = None,
) -> int:
    """End, on `on`, the offices these people hold in council Labour groups: those still open
    and those due to end later. Call inside a transaction. Returns how many ended.

    `councils_kept` maps a person to the council they now sit on: their offices in that
    council's group go on (a councillor who moves council leaves only the old group's offices).
    An office that began after `on` ends the day it began, as the database allows no term to
    end before it starts.
    """
    councils_kept = councils_kept or {}
    offices = (
        GroupOfficer.objects.select_for_update(of=("self",))
        .select_related("group")
        .filter(user_id__in=list(user_ids))
        .not_ended(on)
        .order_by("pk")
    )
    ended = 0
    for office in offices:
        if office.group.council_id == councils_kept.get(office.user_id):
            continue
        office.end_date = max(on, office.start_date)
        office._change_reason = reason
        if by is not None:
            office._history_user = by
        office.save(update_fields=["end_date"])
        ended += 1
    return ended


LEFT_REQUESTS_CLOSED = "Closed: no longer a councillor"


@transaction.atomic
def councillor_mark_left(
    *, councillor: Councillor, left_on: date | None = None, by: User | None = None
) -> Councillor:
    """Record that someone is no longer a councillor from `left_on` (today by default), end
    the group offices they hold on the same day (only a serving councillor holds one), and close
    their pending council or ward change and levy waiver applications, which only a serving
    councillor may make. Closed requests are refused with a reason and keep their history.

    A future date is refused: the portal would count them as gone at once. An office that began
    after `left_on` ends the day it began, as the database allows no term to end before it starts.
    """
    today = timezone.localdate()
    left_on = left_on or today
    if left_on > today:
        raise ValidationError({"left_on": LEFT_ON_FUTURE})
    councillor = Councillor.objects.select_for_update().get(pk=councillor.pk)
    councillor.left_on = left_on
    councillor._change_reason = "No longer a councillor"
    if by is not None:
        councillor._history_user = by
    councillor.save(update_fields=["left_on"])
    # An invitation still waiting to go could no longer be accepted.
    notices_cancel(kind="invitation", to_email=councillor.user.email)
    group_offices_end(
        user_ids=[councillor.user_id],
        on=left_on,
        reason="Term ended: no longer a councillor",
        by=by,
    )
    pending = [
        *ProfileChange.objects.select_for_update().filter(
            councillor=councillor, status=Decision.PENDING
        ),
        *LevyWaiver.objects.select_for_update().filter(
            councillor=councillor, status=Decision.PENDING
        ),
    ]
    for request in pending:
        request.decision_record(by=by, approve=False, reason=LEFT_REQUESTS_CLOSED)
        request._change_reason = LEFT_REQUESTS_CLOSED
        if by is not None:
            request._history_user = by
        request.save()
    return councillor


@transaction.atomic
def councillor_reinstate(*, councillor: Councillor) -> Councillor:
    """Undo "no longer a councillor", say after a mistaken mark: they are serving again.

    Group offices that ended when they were marked as having left stay ended (the record does
    not say which ended for that reason); they are appointed again on the group's page.
    """
    councillor = Councillor.objects.select_for_update().get(pk=councillor.pk)
    if councillor.left_on is None:
        raise ValidationError("They are already listed as a serving councillor.")
    councillor.left_on = None
    councillor._change_reason = "Reinstated: a serving councillor again"
    councillor.save(update_fields=["left_on"])
    return councillor


def councillor_ensure(*, user: User, council: Council, **profile) -> Councillor:
    councillor, _ = Councillor.objects.get_or_create(
        user=user, defaults={"council": council, **profile}
    )
    return councillor
