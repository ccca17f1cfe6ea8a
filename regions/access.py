"""Who may see and change which regions, councils and groups.

Every view gets these objects through the functions here, so a representative can never reach
past their regions whatever URL or form field they send. Objects a person may not know exist
raise Http404; objects they may see but not change raise PermissionDenied.
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from .models import Council, CouncilGroup, GroupOfficer, Region, RegionalRepresentative


def regions_visible_to(user):
    return Region.objects.visible_to(user)


def regions_managed_by(user):
    """Regions whose groups and councillors the person may change: staff all, reps their own."""
    return Region.objects.represented_by(user)


def manages_region(user, region_id) -> bool:
    """Whether the person may change things in this region: the rule of regions_managed_by,
    answered without a query."""
    return user.is_authenticated and (
        user.is_national_staff or region_id in user.represented_region_ids
    )


def regions_represented_by(user):
    """The regions a person is appointed to represent today (for staff too: only those)."""
    return Region.objects.filter(pk__in=user.represented_region_ids)


def councils_visible_to(user):
    return Council.objects.visible_to(user)


def groups_visible_to(user):
    return CouncilGroup.objects.filter(council__region__in=regions_visible_to(user))


def get_region_for_user_or_404(user, slug, *, manage=False):
    region = get_object_or_404(regions_visible_to(user), slug=slug)
    if manage and not manages_region(user, region.pk):
        raise PermissionDenied
    return region


def get_council_for_user_or_404(user, slug=None, *, pk=None, manage=False):
    """The council with this slug (or id), former councils included, if the person may see it."""
    found = {"slug": slug} if pk is None else {"pk": pk}
    council = get_object_or_404(
        councils_visible_to(user).select_related("region").with_next_election(), **found
    )
    if manage and not manages_region(user, council.region_id):
        raise PermissionDenied
    return council


def get_group_for_user_or_404(user, pk, *, manage=False):
    group = get_object_or_404(groups_visible_to(user).select_related("council__region"), pk=pk)
    if manage and not manages_region(user, group.council.region_id):
        raise PermissionDenied
    return group


def require_national_staff(user):
    """For pages only the national office uses: anyone else logged in is refused."""
    if not (user.is_authenticated and user.is_national_staff):
        raise PermissionDenied


def officers_visible_to(user):
    return GroupOfficer.objects.filter(group__in=groups_visible_to(user))


def get_officer_for_user_or_404(user, pk, *, manage=False):
    officer = get_object_or_404(
        officers_visible_to(user).select_related("group__council__region", "user"), pk=pk
    )
    if manage and not manages_region(user, officer.group.council.region_id):
        raise PermissionDenied
    return officer


def officer_candidates(group):
    """The people who may hold an office in a group: its council's serving councillors."""
    return get_user_model().objects.filter(
        councillor__council=group.council_id, councillor__left_on__isnull=True
    )


def representatives_visible_to(user):
    return RegionalRepresentative.objects.filter(region__in=regions_visible_to(user))


def current_representatives_visible_to(user, region):
    """The people representing `region` today, if the person may see the region."""
    return representatives_visible_to(user).current().filter(region=region).select_related("user")


def get_representative_for_user_or_404(user, pk):
    return get_object_or_404(
        representatives_visible_to(user).select_related("region", "user"), pk=pk
    )


def may_correct_council(user) -> bool:
    """Council figures (seats, Labour seats, control, elections) are the national office's to
    correct between releases of the council data."""
    return user.is_authenticated and user.is_national_staff
