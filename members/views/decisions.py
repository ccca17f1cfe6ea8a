"""Decisions on people's requests: council and ward changes (representatives for their regions,
and staff), levy waivers and erasures (staff), and equality-monitoring totals (staff with the
permission). Every object comes through the scoped access functions in members.access: an id the
person may not know exists answers 404, a request they know of (their own) but may not decide
403."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from members import access, services
from members.equality import SMALL_COUNT, equality_tables
from members.forms.profile import DecisionForm
from members.models import Decision

RECENT = 20


# What each list of requests shows: its heading, the row template, the number of columns of
# its pending table, and what it says when nothing waits.
LISTS = {
    "changes": (
        "Council and ward changes",
        "members/rows/change.html",
        5,
        "No changes are waiting.",
    ),
    "waivers": ("Levy waivers", "members/rows/waiver.html", 4, "No applications are waiting."),
    "erasures": ("Erasure requests", "members/rows/erasure.html", 3, "No requests are waiting."),
}


def _decisions_list(request, what: str, managed, asked_on: str):
    heading, rows, columns, empty = LISTS[what]
    context = pending_and_decided(managed, asked_on) | {
        "heading": heading,
        "rows": rows,
        "columns": columns,
        "empty": empty,
    }
    return render(request, "members/decisions_list.html", context)


def pending_and_decided(managed, asked_on: str) -> dict:
    """The requests in `managed` waiting for a decision, oldest `asked_on` first, and the RECENT
    latest decided."""
    return {
        "pending": managed.filter(status=Decision.PENDING).order_by(asked_on),
        "decided": managed.exclude(status=Decision.PENDING).order_by("-decided_at")[:RECENT],
    }


@login_required
@require_safe
def index(request):
    access.require_change_decider(request.user)
    staff = request.user.is_national_staff
    context = {
        "pending_changes": access.pending_changes_managed_by(request.user).count(),
        "pending_waivers": (
            access.waivers_managed_by(request.user).filter(status=Decision.PENDING).count()
            if staff
            else None
        ),
        "pending_erasures": (
            access.erasure_requests_managed_by(request.user).filter(status=Decision.PENDING).count()
            if staff
            else None
        ),
        "may_see_equality": staff and request.user.has_perm("members.view_equality_monitoring"),
    }
    return render(request, "members/decisions.html", context)


def _decision_apply(request, form, decide, *, done: str, then: str, **request_decided):
    """Record the decision in `form` with the service `decide`, and say how it went."""
    decision = form.cleaned_data["decision"]
    try:
        decide(
            by=request.user,
            approve=decision == Decision.APPROVED,
            reason=form.cleaned_data["reason"],
            **request_decided,
        )
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, f"{done} {decision}.")
    return redirect(then)


def _decide_change(request, change, form):
    decide = services.profile_changes.profile_change_decide
    done = f"Change for {change.councillor.user}"
    return _decision_apply(
        request, form, decide, done=done, then="decisions_changes", change=change
    )


@login_required
@require_http_methods(["GET", "POST"])
def changes(request):
    access.require_change_decider(request.user)
    if request.method == "POST":
        # Approve straight from the list: the id comes in the form, so it is scoped here too.
        try:
            pk = int(request.POST.get("change", ""))
        except ValueError:
            raise Http404 from None
        change = access.get_profile_change_for_user_or_404(request.user, pk)
        form = DecisionForm(request.POST)
        if not form.is_valid():
            return redirect("decisions_change", pk=change.pk)
        return _decide_change(request, change, form)
    managed = access.profile_changes_managed_by(request.user).select_related(
        "councillor__user", "councillor__council", "council__region", "decided_by"
    )
    return _decisions_list(request, "changes", managed, "requested_at")


@login_required
@require_http_methods(["GET", "POST"])
def change_detail(request, pk):
    change = access.get_profile_change_for_user_or_404(request.user, pk)
    form = DecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        return _decide_change(request, change, form)
    return render(request, "members/decisions_change.html", {"change": change, "form": form})


@login_required
@require_safe
def waivers(request):
    managed = access.waivers_managed_by(request.user).select_related(
        "councillor__user", "councillor__council", "decided_by"
    )
    return _decisions_list(request, "waivers", managed, "applied_at")


@login_required
@require_http_methods(["GET", "POST"])
def waiver_detail(request, pk):
    waiver = access.get_waiver_for_user_or_404(request.user, pk)
    form = DecisionForm(request.POST or None, reason_required_to_refuse=True)
    if request.method == "POST" and form.is_valid():
        decide = services.waivers.levy_waiver_decide
        return _decision_apply(
            request, form, decide, done="Levy waiver", then="decisions_waivers", waiver=waiver
        )
    return render(request, "members/decisions_waiver.html", {"waiver": waiver, "form": form})


@login_required
@require_safe
def erasures(request):
    managed = access.erasure_requests_managed_by(request.user).select_related("user", "decided_by")
    return _decisions_list(request, "erasures", managed, "requested_at")


@login_required
@require_http_methods(["GET", "POST"])
def erasure_detail(request, pk):
    erasure = access.get_erasure_request_for_user_or_404(request.user, pk)
    form = DecisionForm(request.POST or None, reason_required_to_refuse=True)
    form.fields["decision"].choices = [("approved", "Erase now"), ("refused", "Refuse")]
    if request.method == "POST" and form.is_valid():
        try:
            if form.cleaned_data["decision"] == Decision.APPROVED:
                services.erasure.erasure_carry_out(
                    request=erasure, by=request.user, reason=form.cleaned_data["reason"]
                )
                messages.success(request, "The person's data has been erased.")
            else:
                services.erasure.erasure_request_refuse(
                    request=erasure, by=request.user, reason=form.cleaned_data["reason"]
                )
                messages.success(request, "The erasure request has been refused.")
        except ValidationError as error:
            messages.error(request, error.messages[0])
        return redirect("decisions_erasures")
    shared_groups = (
        services.erasure.erasure_groups_sharing_address(user=erasure.user)
        if erasure.status == Decision.PENDING and erasure.user is not None
        else []
    )
    context = {"erasure": erasure, "form": form, "shared_groups": shared_groups}
    return render(request, "members/decisions_erasure.html", context)


@login_required
@require_safe
def equality_summary(request):
    access.require_equality_viewer(request.user)
    answers = access.equality_answers_visible_to(request.user)
    context = {"total": answers.count(), "tables": equality_tables(answers), "small": SMALL_COUNT}
    return render(request, "members/decisions_equality.html", context)
