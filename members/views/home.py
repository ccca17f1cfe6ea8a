"""The home page: for each of a person's roles, what waits for them, through the access
functions (members.todo)."""

from django.shortcuts import redirect, render
from django.views.decorators.http import require_safe

from members import todo
from members.signals import home_sections, page_sections
from regions.access import (
    current_representatives_visible_to,
    regions_represented_by,
    regions_visible_to,
)


def _councillor_context(user, councillor) -> dict:
    return {
        "councillor": councillor,
        "councillor_representatives": current_representatives_visible_to(
            user, councillor.council.region_id
        ),
        "profile_gaps": todo.profile_gaps(councillor),
        "group": todo.group_officers(user, councillor),
        "next_election": todo.next_election(councillor),
        "waiver": todo.latest_waiver(councillor),
    }


@require_safe
def home(request):
    user = request.user
    if not user.is_authenticated:
        return redirect("account_login")
    context = {"councillor": None, "represented_regions": [], "all_regions": None}
    councillor = user.councillor_or_none
    if councillor is not None:
        context.update(_councillor_context(user, councillor))
    if user.is_representative:
        regions = list(regions_represented_by(user))
        tasks = todo.region_tasks(user, regions)
        context["represented_regions"] = [(region, tasks[region.pk]) for region in regions]
    if user.is_national_staff:
        # The same figures as the national overview: current councils, serving councillors,
        # representatives appointed today.
        regions = list(regions_visible_to(user).with_national_figures())
        context["all_regions"] = regions
        context["councillor_total"] = sum(r.councillor_count for r in regions)
        context["regions_without_representative"] = [
            region for region in regions if not region.current_representatives
        ]
        national = todo.region_tasks(user, regions)
        context["region_rows"] = [(region, national[region.pk]) for region in regions]
        context["imports_in_progress"] = todo.imports_in_progress(user)
    # Requests waiting for the person's decision (also counted in the navigation).
    context["pending"] = user.pending_decisions
    context["decision_tasks"] = todo.decision_tasks(user)
    tasks = todo.other_tasks(user)
    context["councillor_tasks"] = tasks[todo.COUNCILLOR]
    context["mailing_tasks"] = tasks[todo.STAFF] + tasks[todo.REPRESENTATIVE]
    # What other apps show a person here (their bookings and the events open to them...).
    context["sections"] = page_sections(home_sections, user=user)
    return render(request, "members/home.html", context)
