"""Writes for campaigns and for composing mailings: saving drafts, submitting a
representative's draft for approval and approving it. Sending itself is in sending.py."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from ..access import is_staff, may_manage_mailing
from ..models import Adoption, Campaign, CampaignResource, Mailing

AUDIENCE_FIELDS = ("council_kinds", "controls", "election_date", "recipients")
CONTENT_FIELDS = ("campaign", "subject", "from_name", "reply_to", "body")


def _unique_slug(title: str, *, exclude_pk=None) -> str:
    base = (slugify(title) or "campaign")[:180]
    if base in ("mailings", "new"):
        base = f"{base}-campaign"
    slug, n = base, 2
    taken = Campaign.objects.exclude(pk=exclude_pk)
    while taken.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


@transaction.atomic
def campaign_save(*, campaign: Campaign | None = None, data: dict, user) -> Campaign:
    """Create a campaign, or update one; the slug is made from the title once and kept."""
    if not is_staff(user):
        raise PermissionDenied
    campaign = campaign or Campaign()
    for field in ("title", "summary", "body"):
        setattr(campaign, field, data[field])
    if not campaign.slug:
        campaign.slug = _unique_slug(campaign.title)
    campaign._change_reason = "Edited" if campaign.pk else "Created"
    campaign.save()
    return campaign


@transaction.atomic
def resource_add(*, campaign: Campaign, data: dict, user) -> CampaignResource:
    if not is_staff(user):
        raise PermissionDenied
    return CampaignResource.objects.create(
        campaign=campaign,
        title=data["title"],
        url=data.get("url") or "",
        file=data.get("file") or "",
    )


@transaction.atomic
def resource_remove(*, resource: CampaignResource, user) -> None:
    if not is_staff(user):
        raise PermissionDenied
    stored = resource.file
    resource.delete()
    if stored:
        transaction.on_commit(lambda: stored.storage.delete(stored.name))


@transaction.atomic
def adoption_add(*, campaign: Campaign, data: dict, user) -> Adoption:
    if not is_staff(user):
        raise PermissionDenied
    return Adoption.objects.create(
        campaign=campaign, council=data["council"], adopted_on=data["adopted_on"]
    )


@transaction.atomic
def adoption_remove(*, adoption: Adoption, user) -> None:
    if not is_staff(user):
        raise PermissionDenied
    adoption.delete()


@transaction.atomic
def mailing_save(*, mailing: Mailing | None = None, data: dict, user) -> Mailing:
    """Create or update a mailing from a MailingForm's cleaned data.

    A representative's mailing belongs to the region it is addressed to (their own, which the
    form has checked), and any change to it withdraws an approval already given.
    """
    creating = mailing is None
    if creating:
        mailing = Mailing(created_by=user)
    elif not may_manage_mailing(user, mailing):
        raise PermissionDenied
    for field in CONTENT_FIELDS + AUDIENCE_FIELDS:
        setattr(mailing, field, data[field])
    mailing.fall_back_to_contact = data["fall_back_to_contact"]
    if is_staff(user) and "rate_limit" in data:
        # Only staff set how fast a mailing goes; a representative's edit keeps it.
        mailing.rate_limit = data["rate_limit"]
    regions = list(data["regions"])
    if not is_staff(user):
        if len(regions) != 1 or regions[0].pk not in user.represented_region_ids:
            raise ValidationError("A representative writes to their own region only.")
        mailing.owner_region = regions[0]
        mailing.approved_by = None
        if mailing.status == Mailing.Status.AWAITING_APPROVAL:
            mailing.status = Mailing.Status.DRAFT
    mailing._change_reason = "Created" if creating else "Edited"
    mailing.save()
    mailing.regions.set(regions)
    return mailing


def _locked(mailing_id: int) -> Mailing:
    return Mailing.objects.select_for_update().get(pk=mailing_id)


@transaction.atomic
def mailing_submit(*, mailing: Mailing, user) -> Mailing:
    """A representative asks the national office to approve and send their draft."""
    mailing = _locked(mailing.pk)
    if not may_manage_mailing(user, mailing) or mailing.status != Mailing.Status.DRAFT:
        raise PermissionDenied
    mailing.status = Mailing.Status.AWAITING_APPROVAL
    mailing._change_reason = "Submitted for approval"
    mailing.save(update_fields=["status"])
    return mailing


@transaction.atomic
def mailing_approve(*, mailing: Mailing, user) -> Mailing:
    """Staff approve a representative's draft; it is then ready to send or schedule."""
    mailing = _locked(mailing.pk)
    if not is_staff(user) or mailing.status not in (
        Mailing.Status.DRAFT,
        Mailing.Status.AWAITING_APPROVAL,
    ):
        raise PermissionDenied
    mailing.approved_by = user
    mailing.status = Mailing.Status.DRAFT
    mailing._change_reason = f"Approved on {timezone.localdate():%-d %B %Y}"
    mailing.save(update_fields=["approved_by", "status"])
    return mailing


def mailing_ready_to_send(*, mailing: Mailing, user) -> None:
    """Check that staff may send or schedule this mailing now; approve a representative's
    draft in passing (sending it is the approval)."""
    if not is_staff(user):
        raise PermissionDenied
    if mailing.status not in (
        Mailing.Status.DRAFT,
        Mailing.Status.AWAITING_APPROVAL,
        Mailing.Status.SCHEDULED,
    ):
        raise PermissionDenied
    if mailing.owner_region_id and not mailing.approved_by_id:
        mailing_approve(mailing=mailing, user=user)
