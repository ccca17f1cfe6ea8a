"""The regions' names and addresses by id, for the breadcrumbs of the pages below a region.

Regions change a few times a year, and every page names some: the lookup is kept in the cache
under the data version (alc_portal/fragments.py), so a page reads it without a query."""

from django.urls import reverse

from alc_portal import fragments
from regions.models import Region


def _draw() -> dict[int, tuple[str, str]]:
    return {
        pk: (name, reverse("regions:region", args=[slug]))
        for pk, name, slug in Region.objects.values_list("pk", "name", "slug")
    }


def region_links() -> dict[int, tuple[str, str]]:
    """Each region's (name, address) by its id."""
    return fragments.cached("region-links", (), _draw)
