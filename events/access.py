"""Who may see, book, run and change which events. Every view, template flag and service gets
its objects and its answers here.

Events, by role:

- anyone signed in SEES national events, the events of the regions they can see (a serving
  councillor: their region's; a representative: their regions'; staff: all), and any event
  they organise or have a booking on;
- serving councillors BOOK the national events and their own region's, while booking is
  open; former councillors book nothing;
- staff MANAGE (create, change, add sessions to) every event; a representative those of the
  regions they represent today, never a national one;
- those who manage an event and its organisers RUN it: its attendance list and its report;
- only its ORGANISERS read the access needs and dietary requirements people gave;
- the online joining link is shown to those booked on the event and to those who run it.

An event (or session, booking, place, application) outside what a person may see answers 404;
one they see but may not use answers 403. So a representative of another region gets 404 for
a regional event's bookings, and 403 for a national event's.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from members.access import former_councillor_refusal
from regions.access import regions_managed_by, regions_visible_to

from .models import Booking, CalendarFeed, Event, PassApplication, Place, Session

BOOK_ACTION = "book events"
CONFERENCE_ACTION = "apply for a conference pass"


def serving_councillor_of(user):
    """The person's councillor profile if they are a serving councillor, else None."""
    if not user.is_authenticated or not user.is_active:
        return None
    councillor = user.councillor_or_none
    if councillor is None or councillor.left_on is not None:
        return None
    return councillor


# Events.


def events_visible_to(user):
    if not user.is_authenticated:
        return Event.objects.none()
    if user.is_national_staff:
        return Event.objects.all()
    organised = Event.organisers.through.objects.filter(user=user).values("event_id")
    booked = Booking.objects.filter(user=user).values("event_id")
    return Event.objects.filter(
        Q(region__isnull=True)
        | Q(region__in=regions_visible_to(user))
        | Q(pk__in=organised)
        | Q(pk__in=booked)
    )


def events_managed_by(user):
    """Events a person may change: staff all, representatives their regions' (never a
    national one)."""
    if not user.is_authenticated:
        return Event.objects.none()
    if user.is_national_staff:
        return Event.objects.all()
    return Event.objects.filter(region__in=regions_managed_by(user))


def events_run_by(user):
    """Events whose attendance list and report a person may open: those they manage, and
    those they organise."""
    if not user.is_authenticated:
        return Event.objects.none()
    organised = Event.organisers.through.objects.filter(user=user).values("event_id")
    return Event.objects.filter(
        Q(pk__in=events_managed_by(user).values("pk")) | Q(pk__in=organised)
    )


def may_create_event(user) -> bool:
    return user.is_authenticated and (user.is_national_staff or user.is_representative)


def require_event_creator(user) -> None:
    if not may_create_event(user):
        raise PermissionDenied


def regions_for_new_events(user):
    """The regions a person may hold events for (staff may also hold national ones)."""
    return regions_managed_by(user)


def may_hold_national_events(user) -> bool:
    return user.is_authenticated and user.is_national_staff


def may_manage_event(user, event) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_national_staff:
        return True
    return event.region_id is not None and event.region_id in user.represented_region_ids


def is_organiser(user, event) -> bool:
    if not user.is_authenticated:
        return False
    cached = getattr(event, "organiser_ids", None)
    if cached is not None:
        return user.pk in cached
    return event.organisers.filter(pk=user.pk).exists()


def may_run_event(user, event) -> bool:
    return may_manage_event(user, event) or is_organiser(user, event)


def may_see_needs(user, event) -> bool:
    """Access needs and dietary requirements: the event's organisers only."""
    return is_organiser(user, event)


def may_see_joining_details(user, event, *, booked: bool) -> bool:
    """The online joining link: for those booked on it (`booked`), and those who run it."""
    return booked or may_run_event(user, event)


def get_event_for_user_or_404(user, pk, *, manage=False, run=False):
    event = get_object_or_404(events_visible_to(user).select_related("region"), pk=pk)
    if manage and not may_manage_event(user, event):
        raise PermissionDenied
    if run and not may_run_event(user, event):
        raise PermissionDenied
    return event


def get_conference_for_user_or_404(user, pk, *, decide=False):
    """The annual conference `pk`: another event has no passes (404)."""
    event = get_event_for_user_or_404(user, pk)
    if not event.is_annual_conference:
        raise Http404
    if decide:
        require_pass_decider(user)
    return event


# Booking.


def booking_refusal(user, event, *, now=None) -> str | None:
    """Why this person may not book this event now, or None if they may."""
    councillor = user.councillor_or_none if user.is_authenticated else None
    if councillor is None:
        return "Only councillors can book events."
    if serving_councillor_of(user) is None:
        return former_councillor_refusal(BOOK_ACTION)
    if event.region_id is not None and event.region_id != councillor.council.region_id:
        return f"This event is for councillors in {event.region.name}."
    now = now or timezone.now()
    if now < event.booking_opens_at:
        opens = timezone.localtime(event.booking_opens_at)
        return f"Booking opens on {opens:%-d %B %Y at %H:%M}."
    if not event.is_open_for_booking(now):
        return "Booking for this event has closed."
    return None


def may_book(user, event) -> bool:
    return booking_refusal(user, event) is None


def require_booker(user, event) -> None:
    refusal = booking_refusal(user, event)
    if refusal is not None:
        raise PermissionDenied(refusal)


def may_change_booking(user, booking) -> bool:
    """Give up places or accept offers: the person booked, until the event begins."""
    return (
        user.is_authenticated
        and booking.user_id == user.pk
        and booking.event.starts_at > timezone.now()
    )


# Sessions, bookings and places.


def sessions_visible_to(user):
    return Session.objects.filter(event__in=events_visible_to(user))


def get_session_for_user_or_404(user, pk, *, manage=False):
    session = get_object_or_404(
        sessions_visible_to(user).select_related("event__region", "slot"), pk=pk
    )
    if manage and not may_manage_event(user, session.event):
        raise PermissionDenied
    return session


def bookings_visible_to(user):
    """A person's own bookings, and the bookings of the events they run."""
    if not user.is_authenticated:
        return Booking.objects.none()
    return Booking.objects.filter(Q(user=user) | Q(event__in=events_run_by(user)))


def get_booking_for_user_or_404(user, pk, *, event=None, run=False):
    if not str(pk).isdigit():
        raise Http404
    bookings = bookings_visible_to(user).select_related("event", "user")
    if event is not None:
        bookings = bookings.filter(event=event)
    booking = get_object_or_404(bookings, pk=pk)
    if run and not may_run_event(user, booking.event):
        raise PermissionDenied
    return booking


def get_own_booking_or_404(user, event):
    """The person's own booking on this event."""
    return get_object_or_404(
        bookings_visible_to(user).select_related("event", "user"), event=event, user=user
    )


def places_of(user):
    """A person's own places; nobody else's are theirs to accept or decline."""
    if not user.is_authenticated:
        return Place.objects.none()
    return Place.objects.filter(booking__user=user)


def get_place_for_user_or_404(user, pk):
    place = get_object_or_404(
        places_of(user).select_related("booking__event", "session__slot"), pk=pk
    )
    if not may_change_booking(user, place.booking):
        raise PermissionDenied("This event has begun: its places can no longer be changed.")
    return place


# Conference passes.


def pass_refusal(user, event) -> str | None:
    """Why this person may not apply for a pass to this event now, or None."""
    if not event.is_annual_conference:
        return "Passes are for the annual conference."
    if serving_councillor_of(user) is None:
        if user.is_authenticated and user.councillor_or_none is not None:
            return former_councillor_refusal(CONFERENCE_ACTION)
        return "Only councillors can apply for a conference pass."
    if not event.is_open_for_booking():
        return "Applications for passes to this conference are not open."
    return None


def may_apply_for_pass(user, event) -> bool:
    return pass_refusal(user, event) is None


def may_decide_passes(user) -> bool:
    """Approving, refusing and exporting conference passes: the national office."""
    return user.is_authenticated and user.is_national_staff


def require_pass_decider(user) -> None:
    if not may_decide_passes(user):
        raise PermissionDenied


def pass_applications_visible_to(user):
    """A person's own applications; staff all."""
    if not user.is_authenticated:
        return PassApplication.objects.none()
    if user.is_national_staff:
        return PassApplication.objects.all()
    return PassApplication.objects.filter(user=user)


def get_own_pass_application_or_404(user, event):
    return get_object_or_404(
        pass_applications_visible_to(user).select_related("event"), event=event, user=user
    )


def pass_applications_managed_by(user):
    require_pass_decider(user)
    return PassApplication.objects.all()


def get_pass_application_for_user_or_404(user, pk, *, decide=False):
    application = get_object_or_404(
        pass_applications_visible_to(user).select_related("event", "user"), pk=pk
    )
    if decide:
        require_pass_decider(user)
    return application


# Calendar feeds.


def calendar_feed_of(user):
    if not user.is_authenticated:
        return CalendarFeed.objects.none()
    return CalendarFeed.objects.filter(user=user)


def get_calendar_feed_or_404(user_id: int, key: str):
    """The feed a signed address names, while its key is current and its owner active; a
    revoked or replaced key answers 404."""
    feed = CalendarFeed.objects.select_related("user").filter(user_id=user_id, key=key).first()
    if feed is None or not feed.user.is_active:
        raise Http404
    return feed
