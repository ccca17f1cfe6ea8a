"""Appointing and removing regional representatives (the national office)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from members import services
from members.access import require_national_staff, require_role_changer
from members.forms.onboarding import RepresentativeAppointForm
from members.forms.representatives import RepresentativeChooseForm
from regions.access import (
    get_region_for_user_or_404,
    get_representative_for_user_or_404,
    regions_visible_to,
    representatives_visible_to,
)


@login_required
@require_http_methods(["GET", "POST"])
def representatives(request):
    require_national_staff(request.user)
    form = RepresentativeAppointForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        person, region = form.cleaned_data["email"], form.cleaned_data["region"]
        services.representatives.representative_appoint(user=person, region=region)
        messages.success(request, f"{person} is now a representative for {region}.")
        return redirect("representatives")
    # Appointments still to begin are listed with the current ones, so that they can be removed.
    appointments = representatives_visible_to(request.user).select_related("user")
    regions = regions_visible_to(request.user).prefetch_related(
        Prefetch(
            "representatives",
            queryset=appointments.not_ended().order_by("start_date", "pk"),
            to_attr="current_representatives",
        ),
        Prefetch(
            "representatives",
            queryset=appointments.filter(end_date__lte=timezone.localdate()).order_by(
                "-end_date", "-pk"
            ),
            to_attr="former_representatives",
        ),
    )
    return render(request, "members/representatives.html", {"form": form, "regions": regions})


@login_required
@require_http_methods(["GET", "POST"])
def representative_appoint(request, slug):
    """Appoint a representative for one region by choosing among its councillors."""
    require_national_staff(request.user)
    region = get_region_for_user_or_404(request.user, slug, manage=True)
    form = RepresentativeChooseForm(request.POST or None, user=request.user, region=region)
    if request.method == "POST" and form.is_valid():
        person = form.cleaned_data["person"]
        services.representatives.representative_appoint(user=person, region=region)
        messages.success(request, f"{person} is now a representative for {region}.")
        return redirect("home")
    context = {"form": form, "region": region}
    return render(request, "members/representative_appoint.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def representative_remove(request, pk):
    """GET asks staff to confirm, naming the person and the region; POST ends the appointment."""
    require_national_staff(request.user)
    representative = get_representative_for_user_or_404(request.user, pk)
    require_role_changer(request.user, representative.user)
    if request.method != "POST":
        end = representative.end_date
        if end is not None and end <= timezone.localdate():
            messages.error(
                request,
                f"{representative.user}'s appointment for {representative.region} has already "
                "ended.",
            )
            return redirect("representatives")
        context = {"representative": representative, "today": timezone.localdate()}
        return render(request, "members/representative_remove.html", context)
    try:
        services.representatives.representative_remove(representative=representative)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            f"{representative.user} is no longer a representative for {representative.region}.",
        )
    return redirect("representatives")
