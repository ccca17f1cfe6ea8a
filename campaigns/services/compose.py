"""Writes for campaigns and for composing mailings: saving drafts, submitting a
representative's draft for approval and approving it. Sending itself is in sending.py."""

from __future__ import annotations

from functools import cache

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify

from ..access import is_staff, may_manage_mailing
from ..models import Adoption, Campaign, CampaignResource, Mailing
from . import notifications, sending
from .sending import MailingError, _locked

AUDIENCE_FIELDS = ("council_kinds", "controls", "election_date", "recipients")
CONTENT_FIELDS = ("campaign", "subject", "from_name", "reply_to", "body")
# States from which staff may send or schedule a mailing.
SENDABLE = (Mailing.Status.DRAFT, Mailing.Status.AWAITING_APPROVAL, Mailing.Status.SCHEDULED)
CHANGED_MESSAGE = "The mailing changed since you opened it: check it again."
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


@transaction.atomic
def mailing_save(*, mailing: Mailing | None = None, data: dict, user) -> Mailing:
    """Create or update a mailing from a MailingForm's cleaned data.

    A representative's mailing belongs to the region it is addressed to (their own, which the
    form has checked), and any change to it withdraws an approval already given. When staff
    address a region's mailing to anything other than exactly that region, it becomes a
    national mailing: the region's representative can no longer open it, so they never see
    recipients outside their region.
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
    reason = "Created" if creating else "Edited"
    if mailing.owner_region_id and [r.pk for r in regions] != [mailing.owner_region_id]:
        reason = f"Edited: addressed beyond {mailing.owner_region.name}, now a national mailing"
        mailing.owner_region = None
        mailing.approved_by = None
        if mailing.status == Mailing.Status.AWAITING_APPROVAL:
            mailing.status = Mailing.Status.DRAFT
    mailing._change_reason = reason[:100]
    mailing.save()
    mailing.regions.set(regions)
    return mailing


@transaction.atomic
def mailing_submit(*, mailing: Mailing, user) -> Mailing:
    """A representative asks the national office to approve and send their draft (not one
    already approved: that is ready to go). National staff are told by email."""
    mailing = _locked(mailing.pk)
    if (
        not may_manage_mailing(user, mailing)
        or mailing.status != Mailing.Status.DRAFT
        or mailing.approved_by_id
    ):
        raise PermissionDenied
    mailing.status = Mailing.Status.AWAITING_APPROVAL
    mailing._history_user = user
    mailing._change_reason = "Submitted for approval"
    mailing.save(update_fields=["status"])
    notifications.mailing_notify_on_commit(mailing=mailing, event=notifications.SUBMITTED)
    return mailing


class MailingChanged(MailingError):
    """The mailing changed after the person pressing the button loaded the page."""

    def __init__(self):
        super().__init__(CHANGED_MESSAGE)


def mailing_version(mailing_id: int) -> str:
    """A token that changes whenever the mailing does (every save records a history row, its
    audience regions included), for the Approve, Send and Schedule forms to carry."""
    latest = Mailing.history.filter(id=mailing_id).aggregate(latest=Max("history_id"))["latest"]
    return str(latest or 0)


def _check_version(mailing: Mailing, version: str | None) -> None:
    """A form without a token (a script, not the mailing's page) is not checked."""
    if version is not None and version != mailing_version(mailing.pk):
        raise MailingChanged


def _approve(mailing: Mailing, user) -> None:
    mailing.approved_by = user
    mailing.status = Mailing.Status.DRAFT
    mailing._history_user = user
    mailing._change_reason = f"Approved on {timezone.localdate():%-d %B %Y}"
    mailing.save(update_fields=["approved_by", "status"])
    notifications.mailing_notify_on_commit(mailing=mailing, event=notifications.APPROVED)


@transaction.atomic
def mailing_approve(*, mailing: Mailing, user, version: str | None = None) -> Mailing:
    """Staff approve a representative's draft as they saw it; it is then ready to send or
    schedule. Raises MailingChanged if it changed since `version`."""
    mailing = _locked(mailing.pk)
    if not is_staff(user) or mailing.status not in (
        Mailing.Status.DRAFT,
        Mailing.Status.AWAITING_APPROVAL,
    ):
        raise PermissionDenied
    _check_version(mailing, version)
    _approve(mailing, user)
    return mailing


def _ready_to_send(mailing_id: int, *, user, version: str | None) -> Mailing | None:
    """Lock the mailing and check that staff may send or schedule it as they saw it; approve a
    representative's draft in passing (sending it is the approval). None if sending has
    already started. Call inside the transaction that starts or schedules it, so that the
    approval is only kept if that succeeds."""
    if not is_staff(user):
        raise PermissionDenied
    mailing = _locked(mailing_id)
    if mailing.status in SENDABLE:
        _check_version(mailing, version)
    elif mailing.status in (Mailing.Status.SENDING, Mailing.Status.PAUSED, Mailing.Status.SENT):
        return None
    else:
        raise PermissionDenied
    if mailing.owner_region_id and not mailing.approved_by_id:
        _approve(mailing, user)
    return mailing


@transaction.atomic
def mailing_send_now(*, mailing: Mailing, user, version: str | None = None) -> bool:
    """Approve if need be and start sending, all or nothing. False if it had already started.
    Raises MailingError (MailingChanged included) with a message for the person sending."""
    if _ready_to_send(mailing.pk, user=user, version=version) is None:
        return False
    return sending.mailing_start(mailing_id=mailing.pk, started_by=user)


@transaction.atomic
def mailing_schedule_at(*, mailing: Mailing, user, when, version: str | None = None) -> Mailing:
    """Approve if need be and schedule, all or nothing. Raises MailingError."""
    if _ready_to_send(mailing.pk, user=user, version=version) is None:
        raise MailingError("This mailing is already being sent, so it can't be scheduled.")
    return sending.mailing_schedule(mailing_id=mailing.pk, when=when, user=user)
