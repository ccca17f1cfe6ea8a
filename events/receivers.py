"""What events adds to members' pages and records, through the signals members defines."""

from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone

from members.signals import (
    PageSection,
    home_sections,
    personal_data_erased,
    personal_data_requested,
    profile_sections,
)

from .models import Booking, CalendarFeed, PassApplication, Place
from .selectors import home_events, training_completed


@receiver(home_sections, dispatch_uid="events-home")
def home_section(sender, *, user, **kwargs):
    """A councillor's bookings, offers and pass applications, and the events open to them."""
    data = home_events(user)
    if data is None:
        return []
    return [PageSection(template="events/_home_section.html", context=data, order=10)]


@receiver(profile_sections, dispatch_uid="events-profile")
def profile_section(sender, *, user, **kwargs):
    """The training the person completed."""
    return [
        PageSection(
            template="events/_profile_section.html",
            context={"training": list(training_completed(user))},
            order=10,
        )
    ]


def _iso(moment):
    return moment.isoformat() if moment else None


@receiver(personal_data_requested, dispatch_uid="events-personal-data")
def events_data_for_person(sender, *, user_id, **kwargs):
    """Their bookings (with the needs they gave, while kept), places, pass applications,
    the training they completed and whether they have a calendar feed."""
    places = (
        Place.objects.filter(booking__user_id=user_id)
        .select_related("event", "session")
        .order_by("requested_at", "pk")
    )
    bookings = Booking.objects.filter(user_id=user_id).select_related("event").order_by("pk")
    applications = PassApplication.objects.filter(user_id=user_id).select_related("event")
    feed = CalendarFeed.objects.filter(user_id=user_id).first()
    return {
        "event_bookings": [
            {
                "event": b.event.title,
                "starts_at": _iso(b.event.starts_at),
                "booked_at": _iso(b.created_at),
                "access_needs": b.access_needs,
                "dietary_requirements": b.dietary_requirements,
                "attended": b.attended,
            }
            for b in bookings
        ],
        "event_places": [
            {
                "event": p.event.title,
                "session": p.session.title if p.session else "",
                "status": p.get_status_display(),
                "requested_at": _iso(p.requested_at),
                "booked_at": _iso(p.booked_at),
                "offered_at": _iso(p.offered_at),
                "ended_at": _iso(p.ended_at),
            }
            for p in places
        ],
        "conference_pass_applications": [
            {
                "event": a.event.title,
                "pass_type": a.get_pass_type_display(),
                "status": a.get_status_display(),
                "applied_at": _iso(a.applied_at),
                "decided_at": _iso(a.decided_at),
                "reason": a.reason,
            }
            for a in applications
        ],
        "training_completed": [
            {"event": b.event.title, "date": timezone.localdate(b.event.starts_at).isoformat()}
            for b in training_completed(user_id)
        ],
        "calendar_feed": [{"created_at": _iso(feed.created_at)}] if feed else [],
    }


@receiver(personal_data_erased, dispatch_uid="events-erase")
@transaction.atomic
def events_data_erase(sender, *, user_id, **kwargs):
    """The needs they gave go, and their calendar feed. Their bookings stay, anonymised with
    their account, so that an event's figures still add up."""
    Booking.objects.filter(user_id=user_id).update(access_needs="", dietary_requirements="")
    CalendarFeed.objects.filter(user_id=user_id).delete()
