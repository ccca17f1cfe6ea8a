"""Who may see and change which campaigns and mailings. Every view gets them through here.

Campaigns are read by national staff, current representatives and serving councillors, and
changed by national staff; their resources and adoptions go with them. Mailings are seen by
staff (all) and by regional representatives (those owned by one of their regions); nobody else
knows they exist, nor their deliveries. A representative may change their region's drafts until
they are sent; sending and approving are for staff. The suppression list is for staff alone;
each person may lift their own unsubscribe.
"""

from allauth.account.models import EmailAddress
from django.core.exceptions import PermissionDenied
from django.db.models.functions import Lower
from django.shortcuts import get_object_or_404

from .models import Adoption, Campaign, CampaignResource, Delivery, Mailing, Suppression

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


def resources_visible_to(user, campaign):
    """The campaign's resources, for whoever may read the campaign."""
    return CampaignResource.objects.filter(campaign__in=campaigns_visible_to(user)).filter(
        campaign=campaign
    )


def get_resource_for_user_or_404(user, campaign, pk, *, manage=False, files_only=False):
    """One of the campaign's resources; `files_only` for those with an uploaded file."""
    resources = resources_visible_to(user, campaign)
    if files_only:
        resources = resources.exclude(file="")
    resource = get_object_or_404(resources, pk=pk)
    if manage and not is_staff(user):
        raise PermissionDenied
    return resource


def adoptions_visible_to(user, campaign):
    """The councils that adopted the campaign, for whoever may read the campaign."""
    return Adoption.objects.filter(campaign__in=campaigns_visible_to(user)).filter(
        campaign=campaign
    )


def get_adoption_for_user_or_404(user, campaign, pk, *, manage=False):
    adoption = get_object_or_404(
        adoptions_visible_to(user, campaign).select_related("council"), pk=pk
    )
    if manage and not is_staff(user):
        raise PermissionDenied
    return adoption


def deliveries_visible_to(user, mailing):
    """The mailing's deliveries, for whoever may see the mailing; nobody else."""
    return Delivery.objects.filter(mailing__in=mailings_visible_to(user)).filter(mailing=mailing)


def suppressions_visible_to(user):
    """The suppression list names people who asked not to be written to: staff only."""
    return Suppression.objects.all() if is_staff(user) else Suppression.objects.none()


def get_suppression_for_user_or_404(user, pk):
    return get_object_or_404(suppressions_visible_to(user), pk=pk)


def own_suppressions(user):
    """The suppression entries for the person's own addresses: their login address and any
    they have verified (an unverified one could be anybody's)."""
    if not user.is_authenticated:
        return Suppression.objects.none()
    verified = EmailAddress.objects.filter(user=user, verified=True).values_list("email", flat=True)
    emails = {user.email.lower(), *(email.lower() for email in verified)}
    return (
        Suppression.objects.annotate(email_lower=Lower("email"))
        .filter(email_lower__in=emails)
        .order_by("email_lower")
    )
