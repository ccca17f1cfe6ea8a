"""Who may see and change which campaigns and mailings. Every view gets them through here.

Campaigns are read by national staff, current representatives and serving councillors, and
changed by national staff; their resources and adoptions go with them. Mailings are seen by
staff (all) and by regional representatives (those owned by one of their regions); nobody else
knows they exist, nor their deliveries. A representative may change their region's drafts until
they are sent; sending and approving are for staff. The suppression list is for staff alone;
each person may lift their own unsubscribe.

Each thing a person may do to a mailing is one `may_..._mailing(user, mailing)` function below:
the mailing's pages show its button when the function allows it, and the service that does it
asks the same function (the mailing's state, as its model names it, is part of the answer).
"""

from allauth.account.models import EmailAddress
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.db.models.functions import Lower
from django.shortcuts import get_object_or_404

from .models import Adoption, Campaign, CampaignResource, Delivery, Mailing, Suppression


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


def get_mailing_for_user_or_404(user, pk):
    return get_object_or_404(
        mailings_visible_to(user).select_related("campaign", "owner_region"), pk=pk
    )


def may_edit_mailing(user, mailing) -> bool:
    """Change its content and audience: staff until it is sending, its region's representative
    while it is being drafted."""
    if is_staff(user):
        return mailing.is_before_sending
    return (
        user.is_authenticated
        and mailing.owner_region_id in user.represented_region_ids
        and mailing.is_being_drafted
    )


def may_test_send_mailing(user, mailing) -> bool:
    """Send a copy to oneself: staff, and whoever may edit it."""
    return is_staff(user) or may_edit_mailing(user, mailing)


def may_submit_mailing(user, mailing) -> bool:
    """Ask the national office to approve a region's draft."""
    return may_edit_mailing(user, mailing) and mailing.can_be_submitted


def may_approve_mailing(user, mailing) -> bool:
    """Approve it as it stands, while it is being drafted: staff. A national mailing needs no
    approval, but may have one (it then records who checked it)."""
    return is_staff(user) and mailing.is_being_drafted


def may_send_mailing(user, mailing) -> bool:
    """Send it now or schedule it (again), approving it in passing: staff, until it is
    sending."""
    return is_staff(user) and mailing.is_before_sending


def may_unschedule_mailing(user, mailing) -> bool:
    """Take it off the schedule, back to a draft: staff."""
    return is_staff(user) and mailing.is_scheduled


def may_pause_mailing(user, mailing) -> bool:
    return is_staff(user) and mailing.can_be_paused


def may_resume_mailing(user, mailing) -> bool:
    return is_staff(user) and mailing.can_be_resumed


def may_cancel_mailing(user, mailing) -> bool:
    """Stop it for good, while scheduled, sending or paused: staff."""
    return is_staff(user) and mailing.can_be_cancelled


def may_resend_mailing(user, mailing) -> bool:
    """Try its failed addresses again, once sending has begun and unless it was cancelled:
    staff."""
    return is_staff(user) and mailing.is_sending_or_sent


def may_print_letters(user, mailing) -> bool:
    """Print its letters and their address labels (the groups reached only by post): whoever
    may send a mailing, once it has begun sending, and unless it was cancelled."""
    return is_staff(user) and mailing.is_sending_or_sent


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


def _staff_manage_get_or_404(rows, user, *, manage, **lookup):
    """One of `rows` (what the person may read), or 404. Only staff manage campaigns and their
    resources and adoptions: with `manage`, anyone else is refused (403)."""
    found = get_object_or_404(rows, **lookup)
    if manage and not is_staff(user):
        raise PermissionDenied
    return found


def get_campaign_for_user_or_404(user, slug, *, manage=False):
    return _staff_manage_get_or_404(campaigns_visible_to(user), user, manage=manage, slug=slug)


def _of_campaign(model, user, campaign):
    """A campaign's resources or adoptions, for whoever may read the campaign."""
    return model.objects.filter(campaign__in=campaigns_visible_to(user)).filter(campaign=campaign)


def resources_visible_to(user, campaign):
    return _of_campaign(CampaignResource, user, campaign)


def get_resource_for_user_or_404(user, campaign, pk, *, manage=False, files_only=False):
    """One of the campaign's resources; `files_only` for those with an uploaded file."""
    resources = resources_visible_to(user, campaign)
    if files_only:
        resources = resources.exclude(file="")
    return _staff_manage_get_or_404(resources, user, manage=manage, pk=pk)


def adoptions_visible_to(user, campaign):
    """The councils that adopted the campaign."""
    return _of_campaign(Adoption, user, campaign)


def get_adoption_for_user_or_404(user, campaign, pk, *, manage=False):
    adoptions = adoptions_visible_to(user, campaign).select_related("council")
    return _staff_manage_get_or_404(adoptions, user, manage=manage, pk=pk)


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
    verified = (
        EmailAddress.objects.filter(user=user, verified=True)
        .annotate(email_lower=Lower("email"))
        .values("email_lower")
    )
    return (
        Suppression.objects.annotate(email_lower=Lower("email"))
        .filter(Q(email_lower=user.email.lower()) | Q(email_lower__in=verified))
        .order_by("email_lower")
    )
