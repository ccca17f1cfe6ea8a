"""Writes for regional representatives: appointed and removed by the national office, and told
of both by email."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from members.models import User
from members.selectors import portal_link
from members.services.notices import notice_queue
from regions.models import Region, RegionalRepresentative


@transaction.atomic
def representative_appoint(*, user: User, region: Region) -> RegionalRepresentative:
    """Make the person a representative of the region and tell them by email: which region is
    theirs, and that the portal will ask them to set up two-factor authentication when they
    next sign in. Appointing someone who already represents it changes nothing and sends
    nothing."""
    role, created = RegionalRepresentative.objects.get_or_create(
        user=user, region=region, end_date=None
    )
    if created:
        _appointment_notice_queue(role, kind="appointed", template="appointed_representative")
    return role


@transaction.atomic
def representative_remove(*, representative: RegionalRepresentative) -> RegionalRepresentative:
    """End an appointment today and tell the person by email; the record and its history stay.
    Refused (ValidationError) if it has ended already, by a second click say."""
    today = timezone.localdate()
    representative = (
        RegionalRepresentative.objects.select_for_update(of=("self",))
        .select_related("user", "region")
        .get(pk=representative.pk)
    )
    if representative.end_date is not None and representative.end_date <= today:
        raise ValidationError(
            f"{representative.user}'s appointment for {representative.region} has already ended."
        )
    # An appointment still to begin ends the day it would have begun: it never gave access.
    representative.end_date = max(today, representative.start_date)
    representative._change_reason = "Appointment ended"
    representative.save(update_fields=["end_date"])
    _appointment_notice_queue(representative, kind="removed", template="removed_representative")
    return representative


def _appointment_notice_queue(role: RegionalRepresentative, *, kind: str, template: str) -> bool:
    if not role.user.is_active:
        return False
    return notice_queue(
        kind=f"representative_{kind}",
        occasion=role.pk,
        to=role.user,
        template=f"members/email/{template}",
        context={"region": role.region, "appointment": role, "portal_link": portal_link("home")},
    )
