from django.shortcuts import redirect, render

from regions.models import Council, Region


def home(request):
    user = request.user
    if not user.is_authenticated:
        return redirect("account_login")
    context = {"councillor": None, "represented_regions": [], "all_regions": None}

    councillor = user.councillor_or_none
    if councillor is not None:
        context["councillor"] = councillor
        context["councillor_representatives"] = (
            councillor.council.region.representatives.current().select_related("user")
        )

    if user.is_representative:
        regions = Region.objects.filter(pk__in=user.represented_region_ids)
        context["represented_regions"] = [
            (
                region,
                Council.objects.current()
                .for_region(region)
                .select_related("labour_group")
                .with_next_election(),
            )
            for region in regions
        ]

    if user.is_national_staff:
        # The same figures as the national overview: current councils, serving councillors,
        # representatives appointed today.
        regions = list(Region.objects.with_national_figures())
        context["all_regions"] = regions
        context["councillor_total"] = sum(r.councillor_count for r in regions)

    return render(request, "members/home.html", context)
