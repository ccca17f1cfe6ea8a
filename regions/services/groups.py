"""Writes for council Labour groups and their officers. Each write records who made it in the
history."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction

from regions.access import officer_candidates
from regions.models import CouncilGroup, GroupOfficer


def group_contact_update(
    *,
    group: CouncilGroup,
    by,
    name: str,
    contact_email: str,
    phone: str,
    postal_address: str,
) -> CouncilGroup:
    """Change a group's name and how the association reaches it."""
    with transaction.atomic():
        group = CouncilGroup.objects.select_for_update().get(pk=group.pk)
        group.name = name
        group.contact_email = contact_email
        group.phone = phone
        group.postal_address = postal_address
        group.full_clean()
        group._history_user = by
        group._change_reason = "Contact details edited"
        group.save()
    return group


def officer_appoint(*, group: CouncilGroup, role: str, user, start_date: date, by) -> GroupOfficer:
    """Appoint a serving councillor of the group's council to an office from `start_date`.

    The current holder's term ends on the same day, in the same transaction, so the office is
    never held twice nor left half-changed.
    """
    if role not in GroupOfficer.Role.values:
        raise ValidationError({"role": "Choose one of the offices listed."})
    with transaction.atomic():
        # One appointment to a group at a time: the row lock makes a second one wait for this.
        group = CouncilGroup.objects.select_for_update().get(pk=group.pk)
        if not officer_candidates(group).filter(pk=user.pk).exists():
            raise ValidationError(
                {"user": "Only a serving councillor on this council can hold a group office."}
            )
        holder = group.officers.select_for_update().filter(role=role, end_date__isnull=True).first()
        if holder is not None:
            if holder.user_id == user.pk:
                raise ValidationError({"user": f"{user} already holds this office."})
            if start_date < holder.start_date:
                raise ValidationError(
                    {
                        "start_date": "The start date cannot be before the current holder's "
                        f"({holder.start_date:%-d %B %Y})."
                    }
                )
            holder.end_date = start_date
            holder._history_user = by
            holder._change_reason = "Term ended by a new appointment"
            holder.save(update_fields=["end_date"])
        officer = GroupOfficer(group=group, role=role, user=user, start_date=start_date)
        officer._history_user = by
        officer._change_reason = "Appointed"
        officer.save()
    return officer


def officer_end(*, officer: GroupOfficer, end_date: date, by) -> GroupOfficer:
    """End an officer's term on `end_date`."""
    with transaction.atomic():
        officer = GroupOfficer.objects.select_for_update().get(pk=officer.pk)
        if officer.end_date is not None:
            raise ValidationError({"end_date": "This term has already ended."})
        if end_date < officer.start_date:
            began = f"{officer.start_date:%-d %B %Y}"
            raise ValidationError({"end_date": f"A term cannot end before it began ({began})."})
        officer.end_date = end_date
        officer._history_user = by
        officer._change_reason = "Term ended"
        officer.save(update_fields=["end_date"])
    return officer
