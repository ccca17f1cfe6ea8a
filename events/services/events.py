"""Writes for events and their programme: creating and changing an event, and adding or
changing its sessions. National staff hold national events and any region's; a representative
holds events for the regions they represent only (events.access)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from ..access import (
    may_create_event,
    may_hold_national_events,
    may_manage_event,
    regions_for_new_events,
)
from ..models import Event, Place, Session, TimeSlot
from . import passes, places

EVENT_FIELDS = (
    "title",
    "kind",
    "description",
    "starts_at",
    "ends_at",
    "venue",
    "online_link",
    "region",
    "capacity",
    "booking_opens_at",
    "booking_closes_at",
)
# The national office's alone: which event is the annual conference, and its passes.
CONFERENCE_FIELDS = ("is_annual_conference", "pass_capacity")


def _check_scope(user, region) -> None:
    if region is None:
        if not may_hold_national_events(user):
            raise PermissionDenied("Only the national office holds national events.")
    elif not regions_for_new_events(user).filter(pk=region.pk).exists():
        raise PermissionDenied("You can hold events only for the regions you represent.")


@transaction.atomic
def event_save(*, data: dict, user, event: Event | None = None) -> Event:
    """Create an event, or change one, from an EventForm's cleaned data. More places (or
    passes) than before go at once to those waiting."""
    creating = event is None
    if creating:
        if not may_create_event(user):
            raise PermissionDenied
        event = Event(created_by=user)
    else:
        if not may_manage_event(user, event):
            raise PermissionDenied
        event = Event.objects.select_for_update().get(pk=event.pk)
    _check_scope(user, data["region"])
    for field in EVENT_FIELDS:
        setattr(event, field, data[field])
    if may_hold_national_events(user):
        for field in CONFERENCE_FIELDS:
            if field in data:
                setattr(event, field, data[field])
    event._change_reason = "Created" if creating else "Changed"
    event.save()
    event.organisers.set({*data.get("organisers", ()), *([user] if creating else [])})
    if not creating:
        if not event.has_sessions:
            places.places_offer_free(event=event, session=None)
        passes.passes_give_waiting(event=event)
    return event


def _slot_for(event: Event, starts_at, ends_at) -> TimeSlot:
    slot, _created = TimeSlot.objects.get_or_create(
        event=event, starts_at=starts_at, ends_at=ends_at
    )
    return slot


@transaction.atomic
def session_save(*, event: Event, data: dict, user, session: Session | None = None) -> Session:
    """Add a session to an event's programme, or change one. Sessions at the same times share
    a time slot. A session people hold places on keeps its times (their other choices were
    made around them); more places go at once to those waiting."""
    if not may_manage_event(user, event):
        raise PermissionDenied
    if event.places.filter(session__isnull=True).active().exists():
        raise ValidationError(
            "People have booked this event as a whole: it can't be given sessions now."
        )
    if session is not None:
        session = places.target_lock(event=event, session_ids=[session.pk])[session.pk]
    moved = session is not None and (
        (session.slot.starts_at, session.slot.ends_at) != (data["starts_at"], data["ends_at"])
    )
    if moved and Place.objects.filter(session=session).active().exists():
        raise ValidationError("People have places on this session, so its times can't change.")
    session = session or Session(event=event)
    session.slot = _slot_for(event, data["starts_at"], data["ends_at"])
    for field in ("track", "title", "speaker", "room", "capacity"):
        setattr(session, field, data[field])
    session._change_reason = "Changed" if session.pk else "Added"
    session.save()
    places.places_offer_free(event=event, session=session)
    return session
