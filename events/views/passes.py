"""Conference passes: a councillor applies for (or withdraws) their free ex-officio pass; the
national office approves or refuses applications, singly or many at once, and downloads the
approved list."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .. import access
from ..forms import PassDecisionForm
from ..services import passes


@login_required
@require_POST
def pass_apply(request, pk):
    event = access.get_conference_for_user_or_404(request.user, pk)
    try:
        passes.pass_apply(event=event, user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except PermissionDenied as refusal:
        messages.error(request, str(refusal))
        raise
    else:
        messages.success(
            request, "Your application for a pass has been sent to the national office."
        )
    return redirect(event)


@login_required
@require_POST
def pass_withdraw(request, pk):
    event = access.get_conference_for_user_or_404(request.user, pk)
    application = access.get_own_pass_application_or_404(request.user, event)
    try:
        passes.pass_withdraw(application=application, user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Your application is withdrawn.")
    return redirect(event)


def _decide(request, event, form):
    data = form.cleaned_data
    counts = passes.passes_decide(
        event=event,
        application_ids=[a.pk for a in data["applications"]],
        by=request.user,
        approve=data["decision"] == form.APPROVE,
        reason=data["reason"],
    )
    done = ", ".join(f"{n} {status}" for status, n in counts.items() if n)
    messages.success(request, f"Decided: {done}. Each applicant is told by email.")


@login_required
@require_http_methods(["GET", "POST"])
def pass_list(request, pk):
    event = access.get_conference_for_user_or_404(request.user, pk, decide=True)
    form = PassDecisionForm(request.POST or None, event=event)
    if request.method == "POST" and form.is_valid():
        _decide(request, event, form)
        return redirect("events:passes", pk=event.pk)
    applications = (
        access.pass_applications_managed_by(request.user)
        .filter(event=event)
        .select_related("user__councillor__council", "decided_by")
        .order_by("applied_at", "pk")
    )
    pending = [a for a in applications if a.is_pending]
    decided = [a for a in applications if not a.is_pending]
    approved = sum(1 for a in decided if a.is_approved)
    context = {"event": event, "form": form, "pending": pending, "decided": decided}
    context["approved"] = approved
    return render(request, "events/passes.html", context, status=400 if form.errors else 200)


@login_required
@require_GET
def passes_csv(request, pk):
    event = access.get_conference_for_user_or_404(request.user, pk, decide=True)
    content = passes.passes_approved_csv(event=event, by=request.user)
    response = HttpResponse("\ufeff" + content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="passes-event-{event.pk}.csv"'
    return response
