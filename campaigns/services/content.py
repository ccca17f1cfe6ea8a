"""Writes for campaigns: creating and editing them, their resources (links and files) and the
councils that adopted them. National staff make every one of these changes."""

from __future__ import annotations

from functools import cache

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.text import slugify

from ..access import is_staff
from ..models import Adoption, Campaign, CampaignResource

# Held while a campaign's title is checked and saved, so two "Save" presses at once can't both
# pass the check. (Two-number advisory locks have a key space of their own.)
CAMPAIGN_TITLE_LOCK = (7400, 1)
ADOPTED_IN_FUTURE_MESSAGE = "The date of adoption can't be in the future."


@cache
def reserved_slugs() -> frozenset[str]:
    """Words a campaign's slug must not be: the fixed first path segments of the campaigns
    routes (mailings/, suppressions/, new/ ...), which `<slug>/` would otherwise hide or be
    hidden by. Read from the routes themselves, so a page added later is covered too."""
    from ..urls import urlpatterns

    reserved = set()
    for pattern in urlpatterns:
        first = str(pattern.pattern).lstrip("^").split("/")[0]
        if first and not any(c in first for c in "<>()[]?*+\\$"):
            reserved.add(first.lower())
    return frozenset(reserved)


def _unique_slug(title: str, *, exclude_pk=None) -> str:
    base = (slugify(title) or "campaign")[:180]
    if base in reserved_slugs():
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
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", CAMPAIGN_TITLE_LOCK)
    if campaign_title_taken(data["title"], exclude_pk=campaign.pk if campaign else None):
        raise ValidationError({"title": campaign_title_taken_message(data["title"])})
    campaign = campaign or Campaign()
    for field in ("title", "summary", "body"):
        setattr(campaign, field, data[field])
    if not campaign.slug:
        campaign.slug = _unique_slug(campaign.title)
    campaign._change_reason = "Edited" if campaign.pk else "Created"
    campaign.save()
    return campaign


def campaign_title_taken(title: str, *, exclude_pk=None) -> bool:
    """Whether another campaign has this title (ignoring case and surrounding spaces)."""
    return Campaign.objects.exclude(pk=exclude_pk).filter(title__iexact=title.strip()).exists()


def campaign_title_taken_message(title: str) -> str:
    return f"There is already a campaign called “{title.strip()}”. Choose another title."


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
    # Its file is deleted from storage after the commit (receivers.resource_file_delete).
    resource.delete()


@transaction.atomic
def adoption_add(*, campaign: Campaign, data: dict, user) -> Adoption:
    if not is_staff(user):
        raise PermissionDenied
    council = data["council"]
    if data["adopted_on"] > timezone.localdate():
        raise ValidationError({"adopted_on": ADOPTED_IN_FUTURE_MESSAGE})
    try:
        # A savepoint, so that a second press of the button racing the first one gets a
        # message rather than a broken transaction.
        with transaction.atomic():
            return Adoption.objects.create(
                campaign=campaign, council=council, adopted_on=data["adopted_on"]
            )
    except IntegrityError:
        if not Adoption.objects.filter(campaign=campaign, council=council).exists():
            raise
        raise ValidationError({"council": adoption_exists_message(council)}) from None


def adoption_exists_message(council) -> str:
    return f"{council} has already adopted this campaign."


@transaction.atomic
def adoption_remove(*, adoption: Adoption, user) -> None:
    if not is_staff(user):
        raise PermissionDenied
    adoption.delete()
