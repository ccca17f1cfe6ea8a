"""Who may see and change which campaigns and mailings. Every view gets them through here.

Campaigns are read by anyone logged in and changed by national staff. Mailings are seen by
staff (all) and by regional representatives (those owned by one of their regions); nobody
else knows they exist. A representative may change their region's drafts until they are
sent; sending and approving are for staff.
"""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from .models import Campaign, Mailing

# States in which a representative may still edit their region's mailing.
REP_EDITABLE = (Mailing.Status.DRAFT, Mailing.Status.AWAITING_APPROVAL)
# States in which anyone may still change a mailing's content or audience.
EDITABLE = (Mailing.Status.DRAFT, Mailing.Status.AWAITING_APPROVAL, Mailing.Status.SCHEDULED)


def is_staff(user) -> bool:
    return bool(user.is_authenticated and user.is_national_staff)


def may_compose(user) -> bool:
    """Staff and representatives may draft mailings."""
    return bool(user.is_authenticated and (user.is_national_staff or user.is_representative))


def require_composer(user) -> None:
    if not may_compose(user):
        raise PermissionDenied


def require_staff(user) -> None:
    if not is_staff(user):
        raise PermissionDenied


def mailings_visible_to(user):
    if not user.is_authenticated:
        return Mailing.objects.none()
    if user.is_national_staff:
        return Mailing.objects.all()
    if user.is_representative:
        return Mailing.objects.filter(owner_region_id__in=user.represented_region_ids)
    return Mailing.objects.none()


def may_manage_mailing(user, mailing) -> bool:
    """Whether the person may edit the mailing's content and audience."""
    if is_staff(user):
        return mailing.status in EDITABLE
    return (
        user.is_authenticated
        and mailing.owner_region_id in user.represented_region_ids
        and mailing.status in REP_EDITABLE
    )


def get_mailing_for_user_or_404(user, pk, *, manage=False):
    mailing = get_object_or_404(
        mailings_visible_to(user).select_related("campaign", "owner_region"), pk=pk
    )
    if manage and not (is_staff(user) or may_manage_mailing(user, mailing)):
        raise PermissionDenied
    return mailing


def campaigns_visible_to(user):
    """Campaigns are for the association's people: staff, representatives and serving
    councillors (not someone whose councillor record has ended, nor an account with no role)."""
    if not user.is_authenticated:
        return Campaign.objects.none()
    if is_staff(user) or user.is_representative:
        return Campaign.objects.all()
    councillor = user.councillor_or_none
    if councillor is not None and councillor.left_on is None:
        return Campaign.objects.all()
    return Campaign.objects.none()


def campaigns_managed_by(user):
    return Campaign.objects.all() if is_staff(user) else Campaign.objects.none()


def get_campaign_for_user_or_404(user, slug, *, manage=False):
    campaign = get_object_or_404(campaigns_visible_to(user), slug=slug)
    if manage and not is_staff(user):
        raise PermissionDenied
    return campaign
