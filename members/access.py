"""Who may see and change which councillor profiles. Every view that touches a councillor
gets it through here."""

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import get_object_or_404

from regions.access import regions_managed_by

from .models import (
    Councillor,
    CouncillorImport,
    Decision,
    ErasureRequest,
    JoinRequest,
    LevyWaiver,
    ProfileChange,
)


def councillors_managed_by(user):
    """Profiles a person may change on someone's behalf: staff all, reps their regions'."""
    return Councillor.objects.filter(council__region__in=regions_managed_by(user))


def councillors_visible_to(user):
    """Profiles a person may read: their own, plus those they manage."""
    if not user.is_authenticated:
        return Councillor.objects.none()
    return Councillor.objects.filter(Q(user=user) | Q(council__region__in=regions_managed_by(user)))


def get_councillor_for_user_or_404(user, pk, *, manage=False):
    councillor = get_object_or_404(
        councillors_visible_to(user).select_related("user", "council__region"), pk=pk
    )
    if manage and not councillors_managed_by(user).filter(pk=councillor.pk).exists():
        raise PermissionDenied
    return councillor


# Decisions on people's requests. Representatives decide council and ward changes for their
# regions; levy waivers, erasures and equality figures are for the national office only.


def may_decide_changes(user) -> bool:
    return user.is_authenticated and (user.is_national_staff or user.is_representative)


def require_change_decider(user) -> None:
    if not may_decide_changes(user):
        raise PermissionDenied


def require_national_staff(user) -> None:
    if not (user.is_authenticated and user.is_national_staff):
        raise PermissionDenied


def require_equality_viewer(user) -> None:
    require_national_staff(user)
    if not user.has_perm("members.view_equality_monitoring"):
        raise PermissionDenied


def profile_changes_managed_by(user):
    """Council and ward changes a person may decide: those moving a councillor into one of the
    regions they represent (staff: all)."""
    return ProfileChange.objects.filter(council__region__in=regions_managed_by(user))


def pending_changes_managed_by(user):
    return profile_changes_managed_by(user).filter(status=Decision.PENDING)


def get_profile_change_for_user_or_404(user, pk):
    require_change_decider(user)
    return get_object_or_404(
        profile_changes_managed_by(user).select_related(
            "councillor__user", "councillor__council", "council__region"
        ),
        pk=pk,
    )


def waivers_managed_by(user):
    require_national_staff(user)
    return LevyWaiver.objects.all()


def get_waiver_for_user_or_404(user, pk):
    return get_object_or_404(
        waivers_managed_by(user).select_related("councillor__user", "councillor__council"),
        pk=pk,
    )


def erasure_requests_managed_by(user):
    require_national_staff(user)
    return ErasureRequest.objects.all()


def get_erasure_request_for_user_or_404(user, pk):
    return get_object_or_404(erasure_requests_managed_by(user).select_related("user"), pk=pk)


def join_requests_managed_by(user):
    """Join requests a person may decide: staff all, representatives their regions'."""
    return JoinRequest.objects.filter(council__region__in=regions_managed_by(user))


def get_join_request_for_user_or_404(user, pk, *, pending=True):
    requests = join_requests_managed_by(user).select_related("council__region")
    if pending:
        requests = requests.filter(status=Decision.PENDING)
    return get_object_or_404(requests, pk=pk)


def imports_managed_by(user):
    """CSV imports of councillors: only those who manage the region ever see them."""
    return CouncillorImport.objects.filter(region__in=regions_managed_by(user))


def get_import_for_user_or_404(user, pk):
    return get_object_or_404(imports_managed_by(user).select_related("region"), pk=pk)
