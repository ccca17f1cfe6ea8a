"""A councillor's own bookings: booking (or changing the sessions chosen), cancelling,
answering an offer of a place, and their private calendar feed."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from .. import access, selectors
from ..calendar import booking_items, feed_token_read, feed_url, ics_calendar
from ..forms import BookingForm
from ..services import bookings, calendar_feeds
from .events import event_page


def _booking_message(change) -> str:
    parts = []
    if change.booked:
        parts.append(f"{len(change.booked)} place{'s' if len(change.booked) != 1 else ''} booked")
    if change.waiting:
        parts.append(
            f"on {len(change.waiting)} waiting list{'s' if len(change.waiting) != 1 else ''}"
        )
    if change.released:
        parts.append(f"{len(change.released)} given up")
    if not parts:
        return "Your booking is saved."
    return "Your booking is saved: " + ", ".join(parts) + ". We have emailed you the details."


@login_required
@require_POST
def event_book(request, pk):
    event = access.get_event_for_user_or_404(request.user, pk)
    refusal = access.booking_refusal(request.user, event)
    if refusal is not None:
        # Said on the refusal page, as the event's page says it.
        messages.error(request, refusal)
        raise PermissionDenied(refusal)
    slots = selectors.programme(event) if event.has_sessions else []
    booking = selectors.booking_of(request.user, event)
    form = BookingForm(request.POST, slots=slots, places=booking.live_places if booking else ())
    if form.is_valid():
        try:
            change = bookings.booking_choose(
                event=event,
                user=request.user,
                session_ids=form.session_ids(),
                access_needs=form.cleaned_data["access_needs"],
                dietary_requirements=form.cleaned_data["dietary_requirements"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _booking_message(change))
            return redirect(event)
    return event_page(request, event, form=form, status=400)


@login_required
@require_POST
def booking_cancel(request, pk):
    event = access.get_event_for_user_or_404(request.user, pk)
    booking = access.get_own_booking_or_404(request.user, event)
    given_up = bookings.booking_cancel(booking=booking, user=request.user)
    if given_up:
        messages.success(request, "Your booking is cancelled. We have emailed you to confirm.")
    else:
        messages.info(request, "You had no places on this event.")
    return redirect(event)


def _answer(request, pk, *, accept: bool):
    place = access.get_place_for_user_or_404(request.user, pk)
    settled = bookings.place_answer_offer(place=place, user=request.user, accept=accept)
    if not settled:
        messages.warning(request, "That offer is no longer open: its time to accept has passed.")
    elif accept:
        messages.success(request, "The place is yours. We have emailed you the details.")
    else:
        messages.success(request, "You have turned the place down.")
    return redirect(place.booking.event)


@login_required
@require_POST
def place_accept(request, pk):
    return _answer(request, pk, accept=True)


@login_required
@require_POST
def place_decline(request, pk):
    return _answer(request, pk, accept=False)


@login_required
@require_http_methods(["GET", "POST"])
def calendar(request):
    """The person's private calendar feed: its address, a new one, or none."""
    action = request.POST.get("action")
    if action == "create":
        calendar_feeds.calendar_feed_create(user=request.user)
    elif action == "replace":
        calendar_feeds.calendar_feed_replace(user=request.user)
        messages.success(request, "Your calendar has a new address: the old one no longer works.")
    elif action == "revoke":
        calendar_feeds.calendar_feed_revoke(user=request.user)
        messages.success(request, "Your calendar feed is turned off.")
    if request.method == "POST":
        return redirect("events:calendar")
    feed = access.calendar_feed_of(request.user).first()
    context = {"feed": feed, "feed_url": feed_url(feed) if feed else ""}
    return render(request, "events/calendar.html", context)


@require_safe
def calendar_feed(request, token):
    """The feed itself, for calendar programs: no sign-in, the signed address is the key."""
    found = feed_token_read(token)
    if found is None:
        return HttpResponse(status=404)
    feed = access.get_calendar_feed_or_404(*found)
    items = [
        item
        for booking in selectors.feed_bookings(feed.user)
        for item in booking_items(booking, booking.booked_places)
    ]
    body = ics_calendar(items, name="My ALC events")
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="alc-events.ics"'
    response["Cache-Control"] = "private, no-store"
    return response
