"""Joining: the public form, and the pages where representatives (and the national office)
decide the requests."""

from allauth.core import ratelimit
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from members import services
from members.access import get_join_request_for_user_or_404, join_requests_managed_by
from members.forms.onboarding import JoinForm, RefuseForm
from members.models import Decision
from members.views.decisions import pending_and_decided
from regions.access import regions_managed_by, representatives_visible_to
from regions.names import CouncilNames

TOO_MANY_JOIN_REQUESTS = (
    "Too many requests to join have come from your network. Please try again in an hour."
)


def _require_manager(user) -> None:
    if not regions_managed_by(user).exists():
        raise PermissionDenied


@require_http_methods(["GET", "POST"])
def join(request):
    lookup = CouncilNames.current()
    form = JoinForm(request.POST or None, lookup=lookup)
    status = 200
    if request.method == "POST" and form.is_valid():
        if not ratelimit.consume(request, action="join_request"):
            form.add_error(None, TOO_MANY_JOIN_REQUESTS)
            status = 429
        else:
            try:
                services.join_requests.join_request_submit(
                    full_name=form.cleaned_data["full_name"],
                    email=form.cleaned_data["email"],
                    council=form.cleaned_data["council"],
                    ward=form.cleaned_data["ward"],
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                return redirect("join_thanks")
    context = {"form": form, "council_names": lookup.names()}
    return render(request, "members/join.html", context, status=status)


@require_safe
def join_thanks(request):
    return render(request, "members/join_thanks.html")


@login_required
@require_safe
def join_requests(request):
    _require_manager(request.user)
    # Only requests people made: not the records of invitations to councillors added by hand or
    # imported, which have their own pages.
    managed = (
        join_requests_managed_by(request.user)
        .filter(asked_to_join=True)
        .select_related("council__region", "decided_by")
    )
    context = pending_and_decided(managed, "requested_at")
    if request.user.is_national_staff:
        # Requests from a region with nobody to decide them are the national office's to decide.
        context["represented_region_ids"] = set(
            representatives_visible_to(request.user).current().values_list("region_id", flat=True)
        )
    return render(request, "members/join_requests.html", context)


@login_required
@require_POST
def join_request_approve(request, pk):
    # Decided requests are found too, so that a second click is told what happened.
    join_request = get_join_request_for_user_or_404(request.user, pk, pending=False)
    try:
        councillor = services.join_requests.join_request_approve(
            join_request=join_request, by=request.user
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if councillor is None:
            messages.warning(
                request, f"{join_request.full_name}: {services.join_requests.JOIN_ADDRESS_TAKEN}"
            )
        else:
            messages.success(
                request, f"{join_request.full_name} has been added and an invitation is on its way."
            )
    return redirect("join_requests")


@login_required
@require_http_methods(["GET", "POST"])
def join_request_refuse(request, pk):
    join_request = get_join_request_for_user_or_404(request.user, pk, pending=False)
    if join_request.status != Decision.PENDING:
        messages.error(request, "This request has already been decided.")
        return redirect("join_requests")
    form = RefuseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.join_requests.join_request_refuse(
                join_request=join_request, by=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"The request from {join_request.full_name} was refused.")
        return redirect("join_requests")
    return render(
        request, "members/join_request_refuse.html", {"form": form, "join_request": join_request}
    )
