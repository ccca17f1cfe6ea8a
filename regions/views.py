from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from .access import (
    get_council_for_user_or_404,
    get_group_for_user_or_404,
    get_region_for_user_or_404,
)


@login_required
def region_detail(request, slug):
    region = get_region_for_user_or_404(request.user, slug)
    councils = region.councils.current()
    context = {
        "region": region,
        "councils": councils.select_related("labour_group").with_next_election(),
        "totals": councils.totals(),
        "representatives": region.representatives.current().select_related("user"),
    }
    return render(request, "regions/region_detail.html", context)


@login_required
def council_detail(request, slug):
    council = get_council_for_user_or_404(request.user, slug)
    return render(request, "regions/council_detail.html", {"council": council})


@login_required
def group_detail(request, pk):
    group = get_group_for_user_or_404(request.user, pk)
    return render(request, "regions/group_detail.html", {"group": group})
