"""The home page: what each of a person's roles gives them, through the access functions."""

from django.shortcuts import redirect, render
from django.views.decorators.http import require_safe

from members.signals import home_sections, page_sections
from regions.access import (
    councils_visible_to,
    current_representatives_visible_to,
    regions_represented_by,
    regions_visible_to,
)


@require_safe
def home(request):
    user = request.user
    if not user.is_authenticated:
        return redirect("account_login")
    context = {"councillor": None, "represented_regions": [], "all_regions": None}

    councillor = user.councillor_or_none
    if councillor is not None:
        context["councillor"] = councillor
        context["councillor_representatives"] = current_representatives_visible_to(
            user, councillor.council.region_id
        )

    if user.is_representative:
        context["represented_regions"] = [
            (
                region,
                councils_visible_to(user)
                .current()
                .for_region(region)
                .select_related("labour_group")
                .with_next_election(),
            )
            for region in regions_represented_by(user)
        ]

    if user.is_national_staff:
        # The same figures as the national overview: current councils, serving councillors,
        # representatives appointed today.
        regions = list(regions_visible_to(user).with_national_figures())
        context["all_regions"] = regions
        context["councillor_total"] = sum(r.councillor_count for r in regions)

    # Requests waiting for the person's decision (also counted in the navigation).
    context["pending"] = user.pending_decisions
    # What other apps show a person here (their bookings and the events open to them...).
    context["sections"] = page_sections(home_sections, user=user)
    return render(request, "members/home.html", context)
