from django.db.models import Count, Q
from django.shortcuts import redirect, render

from members.models import Councillor
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
        context["all_regions"] = Region.objects.annotate(
            council_count=Count("councils", distinct=True),
            group_count=Count("councils__labour_group", distinct=True),
            councillor_count=Count("councils__councillors", distinct=True),
            representative_count=Count(
                "representatives",
                filter=Q(representatives__end_date__isnull=True),
                distinct=True,
            ),
        )
        context["councillor_total"] = Councillor.objects.count()

    return render(request, "members/home.html", context)
