"""Running an event, for its organisers and those who manage it: the attendance list (printable,
and usable on a phone on the day) and the report."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe

from .. import access, selectors
from ..forms import AttendanceForm
from ..services import bookings


@login_required
@require_http_methods(["GET", "POST"])
def attendance(request, pk):
    event = access.get_event_for_user_or_404(request.user, pk, run=True)
    if request.method == "POST":
        booking = access.get_booking_for_user_or_404(
            request.user, request.POST.get("booking"), event=event, run=True
        )
        form = AttendanceForm(request.POST)
        if not form.is_valid():
            return HttpResponseBadRequest("Say whether they attended.")
        bookings.attendance_mark(booking=booking, by=request.user, attended=form.value())
        # Back to the same row, so that on a phone the list stays where it was.
        return redirect(reverse("events:attendance", args=[event.pk]) + f"#booking-{booking.pk}")
    rows = list(selectors.attendance_rows(event))
    context = {
        "event": event,
        "rows": rows,
        "attended": sum(1 for row in rows if row.attended),
        "may_see_needs": access.may_see_needs(request.user, event),
    }
    return render(request, "events/attendance.html", context)


@login_required
@require_safe
def report(request, pk):
    event = access.get_event_for_user_or_404(request.user, pk, run=True)
    context = {"event": event, **selectors.event_report(event)}
    return render(request, "events/report.html", context)
