"""The results page (/search/?q=..., which works without JavaScript) and the results the header's
search box shows as the person types (static/js/search.js), drawn from the same search."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from search.results import search_for

PAGE_RESULTS = 20
BOX_RESULTS = 5


@login_required
@require_safe
@never_cache
def search_page(request):
    query = request.GET.get("q", "")
    results = search_for(request.user, query, per_kind=PAGE_RESULTS) if query.strip() else None
    return render(request, "search/search.html", {"query": query, "results": results})


@login_required
@require_safe
@never_cache
def search_box_results(request):
    results = search_for(request.user, request.GET.get("q", ""), per_kind=BOX_RESULTS)
    return render(request, "search/box_results.html", {"results": results})
