"""A person's own pages: their councillor profile, their region, levy waiver applications,
and their personal data (export, erasure, equality monitoring)."""

import functools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
    require_safe,
)

from members import access, services
from members.forms.profile import (
    EqualityMonitoringForm,
    ErasureRequestForm,
    LevyWaiverForm,
    PositionFormSet,
    ProfileForm,
    equality_answer_labels,
)
from members.models import Decision
from members.signals import page_sections, profile_sections
from regions.access import (
    current_representatives_visible_to,
    groups_visible_to,
    officers_visible_to,
)


def _own_profile(view):
    """Give the view the person's own councillor profile. People without one (staff,
    representatives) get a page that says so instead."""

    @functools.wraps(view)
    def with_profile(request, *args, **kwargs):
        councillor = request.user.councillor_or_none
        if councillor is None:
            return render(request, "members/profile_none.html")
        councillor.user = request.user
        return view(request, councillor, *args, **kwargs)

    return with_profile


def _refuse(request, refusal: PermissionDenied):
    """Answer 403, with the reason shown on the page."""
    if refusal.args:
        messages.error(request, str(refusal))
    raise refusal


@login_required
@require_safe
@_own_profile
def profile(request, councillor):
    changes = list(councillor.pending_changes.select_related("council")[:1])
    context = {
        "councillor": councillor,
        "positions": councillor.positions.all(),
        "latest_change": changes[0] if changes else None,
        "email_addresses": access.email_addresses_of(request.user),
        # What other apps record of the person (the training they completed, say).
        "sections": page_sections(profile_sections, user=request.user),
    }
    return render(request, "members/profile.html", context)


@login_required
@require_http_methods(["GET", "POST"])
@_own_profile
def profile_edit(request, councillor):
    pending = councillor.pending_changes.filter(status=Decision.PENDING).first()
    form = ProfileForm(
        request.POST or None,
        councillor=councillor,
        initial=ProfileForm.initial_for(councillor, pending),
    )
    formset = PositionFormSet(request.POST or None, instance=councillor, prefix="positions")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        try:
            change = services.profiles.profile_update(
                councillor=councillor, changes=form.cleaned_data, positions=formset.positions()
            )
        except PermissionDenied as refusal:
            _refuse(request, refusal)
        if change is not None:
            messages.success(
                request,
                "Your profile is saved. Your change of council or ward is waiting for your "
                "regional representative's approval.",
            )
        else:
            messages.success(request, "Your profile is saved.")
        return redirect("profile")
    return render(
        request,
        "members/profile_edit.html",
        {"form": form, "formset": formset, "councillor": councillor, "pending": pending},
    )


@login_required
@require_safe
@_own_profile
def my_region(request, councillor):
    # A councillor who has left no longer sees their former region's pages.
    try:
        access.require_serving_councillor(councillor, action=access.REGION_ACTION)
    except PermissionDenied as refusal:
        _refuse(request, refusal)
    region = councillor.council.region
    representatives = current_representatives_visible_to(request.user, region).select_related(
        "user__councillor"
    )
    group = groups_visible_to(request.user).filter(council_id=councillor.council_id).first()
    officers = (
        officers_visible_to(request.user)
        .current()
        .filter(group=group)
        .select_related("user")
        .order_by("role", "-start_date")
        if group
        else []
    )
    context = {
        "councillor": councillor,
        "region": region,
        "representatives": representatives,
        "group": group,
        "officers": officers,
    }
    return render(request, "members/my_region.html", context)


@login_required
@require_http_methods(["GET", "POST"])
@_own_profile
def levy_waiver(request, councillor):
    waivers = councillor.levy_waivers.all()
    taken_years = {w.year for w in waivers if w.status != Decision.REFUSED}
    form = LevyWaiverForm(request.POST or None, taken_years=taken_years)
    may_apply = councillor.left_on is None
    if not may_apply:
        refusal = access.former_councillor_refusal(access.WAIVER_ACTION)
        if request.method == "POST":
            _refuse(request, PermissionDenied(refusal))
        # They still read their past applications; the page says why they cannot apply.
        messages.warning(request, refusal)
    if request.method == "POST" and form.is_valid():
        try:
            services.waivers.levy_waiver_apply(
                councillor=councillor,
                year=form.cleaned_data["year"],
                circumstances=form.cleaned_data["circumstances"],
            )
        except PermissionDenied as refusal:
            _refuse(request, refusal)
        except ValidationError as error:
            form.add_error("year", error)
        else:
            messages.success(request, "Your application has been sent to the national office.")
            return redirect("levy_waiver")
    context = {"form": form, "waivers": waivers, "may_apply": may_apply}
    return render(request, "members/waiver.html", context)


def _my_data_page(request, erasure_form):
    context = {
        "erasure_form": erasure_form,
        "erasure_requests": access.erasure_requests_of(request.user),
        "has_equality": access.equality_answers_of(request.user).exists(),
    }
    return render(request, "members/my_data.html", context)


@login_required
@require_safe
def my_data(request):
    return _my_data_page(request, ErasureRequestForm())


def _download(content: str, content_type: str, extension: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    filename = f"alc-portal-my-data-{timezone.localdate():%Y-%m-%d}.{extension}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_GET
def my_data_export_json(request):
    content = services.personal_data.personal_data_download(user=request.user, as_csv=False)
    return _download(content, "application/json", "json")


@login_required
@require_GET
def my_data_export_csv(request):
    content = services.personal_data.personal_data_download(user=request.user, as_csv=True)
    # A byte order mark first, as the region exports have, so Excel reads it as UTF-8.
    return _download("\ufeff" + content, "text/csv; charset=utf-8", "csv")


@login_required
@require_POST
def erasure_request(request):
    form = ErasureRequestForm(request.POST)
    if not form.is_valid():
        return _my_data_page(request, form)
    services.erasure.erasure_request_create(user=request.user)
    messages.success(
        request,
        "Your request to erase your data has been sent to the national office. We will tell "
        "you when it has been carried out.",
    )
    return redirect("my_data")


@login_required
@require_http_methods(["GET", "POST"])
def equality(request):
    record = access.equality_answers_of(request.user).first()
    initial = dict(record.answers) if record else {}
    form = EqualityMonitoringForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.personal_data.equality_monitoring_save(user=request.user, answers=form.answers())
        messages.success(request, "Your equality-monitoring answers are saved.")
        return redirect("equality")
    context = {
        "form": form,
        "record": record,
        "answers": equality_answer_labels(record.answers) if record else [],
    }
    return render(request, "members/equality.html", context)


@login_required
@require_POST
def equality_withdraw(request):
    services.personal_data.equality_monitoring_withdraw(user=request.user)
    messages.success(request, "Your equality-monitoring answers have been deleted.")
    return redirect("equality")
