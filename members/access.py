"""Who may see and change which councillor profiles. Every view that touches a councillor
gets it through here."""

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import get_object_or_404

from regions.access import regions_managed_by

from .models import Councillor


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
