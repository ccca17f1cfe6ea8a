"""Events and their programmes: the list, an event's page (where councillors book), creating
and changing events, and their sessions."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from .. import access, selectors
from ..forms import BookingForm, EventForm, SessionForm
from ..services import events as event_services


@login_required
@require_safe
def event_list(request):
    events = list(selectors.events_listed_for(request.user))
    context = {
        "events": events,
        "may_create": access.may_create_event(request.user),
        "may_book": access.serving_councillor_of(request.user) is not None,
    }
    return render(request, "events/event_list.html", context)


def event_page(request, event, *, form=None, status=200):
    """An event's page: what it is, its programme and places, and the person's own booking
    (the booking form, when they may book) or pass application."""
    user = request.user
    booking = selectors.booking_of(user, event)
    live = booking.live_places if booking else []
    slots = selectors.programme(event) if event.has_sessions else []
    refusal = access.booking_refusal(user, event)
    if form is None and refusal is None:
        initial = {
            "access_needs": booking.access_needs if booking else "",
            "dietary_requirements": booking.dietary_requirements if booking else "",
        }
        form = BookingForm(slots=slots, places=live, initial=initial)
    booked = any(p.is_booked for p in live)
    context = {
        "event": event,
        "slots": slots,
        "counts": None if event.has_sessions else selectors.event_counts(event),
        "booking": booking,
        "places": live,
        "booked": booked,
        "form": form,
        "refusal": refusal,
        "may_change_booking": bool(booking) and access.may_change_booking(user, booking),
        "may_see_link": access.may_see_joining_details(user, event, booked=booked),
        "may_manage": access.may_manage_event(user, event),
        "may_run": access.may_run_event(user, event),
        "application": selectors.pass_application_of(user, event),
        "pass_refusal": access.pass_refusal(user, event) if event.is_annual_conference else None,
        "may_decide_passes": event.is_annual_conference and access.may_decide_passes(user),
        "offer_hours": f"{settings.EVENT_OFFER_HOURS:g}",
    }
    return render(request, "events/event_detail.html", context, status=status)


@login_required
@require_safe
def event_detail(request, pk):
    return event_page(request, access.get_event_for_user_or_404(request.user, pk))


@login_required
@require_http_methods(["GET", "POST"])
def event_create(request):
    access.require_event_creator(request.user)
    return _event_form(request, None)


@login_required
@require_http_methods(["GET", "POST"])
def event_edit(request, pk):
    return _event_form(request, access.get_event_for_user_or_404(request.user, pk, manage=True))


def _event_form(request, event):
    form = EventForm(request.POST or None, instance=event, user=request.user)
    if request.method == "POST" and form.is_valid():
        saved = event_services.event_save(data=form.cleaned_data, user=request.user, event=event)
        messages.success(request, "The event is saved.")
        return redirect(saved)
    return render(request, "events/event_form.html", {"form": form, "event": event})


@login_required
@require_safe
def event_sessions(request, pk):
    event = access.get_event_for_user_or_404(request.user, pk)
    context = {
        "event": event,
        "slots": selectors.programme(event),
        "may_manage": access.may_manage_event(request.user, event),
    }
    return render(request, "events/event_sessions.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def session_add(request, pk):
    event = access.get_event_for_user_or_404(request.user, pk, manage=True)
    return _session_form(request, event, None)


@login_required
@require_http_methods(["GET", "POST"])
def session_edit(request, pk):
    session = access.get_session_for_user_or_404(request.user, pk, manage=True)
    return _session_form(request, session.event, session)


def _session_form(request, event, session):
    form = SessionForm(request.POST or None, instance=session, event=event)
    if request.method == "POST" and form.is_valid():
        try:
            event_services.session_save(
                event=event, data=form.cleaned_data, user=request.user, session=session
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "The session is saved.")
            return redirect("events:sessions", pk=event.pk)
    context = {"form": form, "event": event, "session": session}
    return render(request, "events/session_form.html", context)
