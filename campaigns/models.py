from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords

# The fastest a mailing may be set to send. Far above what any mail server takes from one
# sender, and low enough that the batch and slot arithmetic never overflows.
RATE_LIMIT_MAX = 10_000


def validate_positive(value):
    if value is not None and not value > 0:
        raise ValidationError("Enter a number of messages per second greater than 0.")


validate_rate_limit_max = MaxValueValidator(
    RATE_LIMIT_MAX, message=f"Enter at most {RATE_LIMIT_MAX:,} messages per second."
)


class Campaign(models.Model):
    """A policy campaign councils can adopt, e.g. food justice or a modern-slavery charter."""

    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    summary = models.CharField(max_length=500)
    body = models.TextField(help_text="Markdown.", blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["title"]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("campaigns:campaign", args=[self.slug])


class CampaignResource(models.Model):
    """A link or an uploaded file that helps councils adopt a campaign."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="resources")
    title = models.CharField(max_length=200)
    url = models.URLField(blank=True)
    file = models.FileField(upload_to="campaigns/resources/%Y/", blank=True)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["title"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(url="") | ~models.Q(file=""), name="resource_has_url_or_file"
            )
        ]

    def __str__(self):
        return self.title


class Adoption(models.Model):
    """A council that has adopted a campaign, and when."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="adoptions")
    council = models.ForeignKey(
        "regions.Council", on_delete=models.CASCADE, related_name="campaign_adoptions"
    )
    adopted_on = models.DateField()

    class Meta:
        ordering = ["-adopted_on"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "council"], name="one_adoption_per_council")
        ]

    def __str__(self):
        return f"{self.council} adopted {self.campaign} on {self.adopted_on}"


class EventAudience(models.TextChoices):
    """A mailing's audience by people's bookings on an event, instead of groups' addresses."""

    BOOKED = "booked", "Councillors booked on the event"
    NOT_BOOKED = "not_booked", "Serving councillors in the regions chosen, not booked on it"


class Mailing(models.Model):
    """An email to council Labour groups chosen by an audience rule (or to councillors chosen
    by their booking on an event)."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        AWAITING_APPROVAL = "awaiting_approval", "Awaiting approval"
        SCHEDULED = "scheduled", "Scheduled"
        SENDING = "sending", "Sending"
        PAUSED = "paused", "Paused"
        CANCELLED = "cancelled", "Cancelled"
        SENT = "sent", "Sent"

    class Recipients(models.TextChoices):
        CONTACT = "contact", "Group contact address"
        LEADER = "leader", "Group leader"
        SECRETARY = "secretary", "Group secretary"
        ALL_COUNCILLORS = "all_councillors", "All councillors in the group"

    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="mailings"
    )
    subject = models.CharField(max_length=200)
    from_name = models.CharField(max_length=100, default="Association of Labour Councillors")
    reply_to = models.EmailField(blank=True)
    body = models.TextField(help_text="Markdown with merge fields such as {{ group.name }}.")

    # The audience rule. Empty lists mean "any".
    regions = models.ManyToManyField("regions.Region", blank=True, related_name="+")
    council_kinds = models.JSONField(default=list, blank=True)
    controls = models.JSONField(default=list, blank=True)
    election_date = models.DateField(null=True, blank=True)
    recipients = models.JSONField(default=list)
    # When an office is vacant, write to the group contact address instead.
    fall_back_to_contact = models.BooleanField(default=True)
    # Or, instead of groups' addresses, people by their booking on an event: those booked on
    # it, or the serving councillors of the regions chosen who are not (campaigns.audience).
    event = models.ForeignKey(
        "events.Event", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    event_audience = models.CharField(
        max_length=20, choices=EventAudience.choices, blank=True, default=""
    )

    # A draft by a regional representative is limited to their region and needs staff approval.
    owner_region = models.ForeignKey(
        "regions.Region", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    scheduled_for = models.DateTimeField(null=True, blank=True)
    rate_limit = models.FloatField(
        null=True,
        blank=True,
        validators=[validate_positive, validate_rate_limit_max],
        help_text="Messages per second for this mailing, to send it more slowly than the"
        " portal's own limit; blank to send as fast as that allows.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    scheduled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Why the schedule could not start it (shown on its page until it is scheduled or sent).
    schedule_problem = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # The groups the audience picked that had no address to write to when sending started:
    # [{"id", "name", "council", "region"}], for the final report.
    groups_without_address = models.JSONField(default=list, blank=True)

    history = HistoricalRecords(
        excluded_fields=["started_at", "finished_at", "groups_without_address"]
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rate_limit__isnull=True) | models.Q(rate_limit__gt=0),
                name="mailing_rate_limit_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(rate_limit__isnull=True)
                | models.Q(rate_limit__lte=RATE_LIMIT_MAX),
                name="mailing_rate_limit_at_most_max",
            ),
            models.CheckConstraint(
                condition=models.Q(event__isnull=True, event_audience="")
                | (models.Q(event__isnull=False) & ~models.Q(event_audience="")),
                name="mailing_event_audience_names_its_event",
            ),
        ]

    def __str__(self):
        return self.subject

    def get_absolute_url(self):
        return reverse("campaigns:mailing", args=[self.pk])

    @property
    def is_for_event_people(self) -> bool:
        """Addressed to people by their booking on an event, not to groups."""
        return bool(self.event_audience)

    def control_labels(self) -> list[str]:
        """The audience rule's control choices as people read them."""
        from regions.control import control_labels

        return control_labels(self.controls or ())

    # Where the mailing stands. A mailing goes draft -> (awaiting approval -> draft) ->
    # (scheduled ->) sending <-> paused -> sent, and may be cancelled while scheduled, sending or
    # paused. Pages, access rules and services ask these rather than compare statuses.

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    @property
    def is_awaiting_approval(self) -> bool:
        return self.status == self.Status.AWAITING_APPROVAL

    @property
    def is_scheduled(self) -> bool:
        return self.status == self.Status.SCHEDULED

    @property
    def is_sending(self) -> bool:
        return self.status == self.Status.SENDING

    @property
    def is_sent(self) -> bool:
        return self.status == self.Status.SENT

    @property
    def is_being_drafted(self) -> bool:
        """A draft or awaiting approval: its region's representative may still change it, and
        staff may approve it."""
        return self.status in (self.Status.DRAFT, self.Status.AWAITING_APPROVAL)

    @property
    def is_before_sending(self) -> bool:
        """Not sending yet (a draft, awaiting approval or scheduled): it may still be changed,
        sent or scheduled."""
        return self.is_being_drafted or self.is_scheduled

    @property
    def is_sending_or_sent(self) -> bool:
        """Sending, paused or sent: its messages are going or have gone out, and it was not
        cancelled. Its failed addresses may be tried again."""
        return self.status in (self.Status.SENDING, self.Status.PAUSED, self.Status.SENT)

    @property
    def sending_began(self) -> bool:
        """Whether sending began, whatever became of it since: its deliveries are then the
        record of who gets it. A mailing cancelled while only scheduled never began."""
        if self.status == self.Status.CANCELLED:
            return self.started_at is not None
        return self.is_sending_or_sent

    @property
    def is_finished(self) -> bool:
        """Sent or cancelled: nothing more will be sent."""
        return self.status in (self.Status.SENT, self.Status.CANCELLED)

    @property
    def needs_approval(self) -> bool:
        """A region's mailing goes out only once the national office has approved it."""
        return self.owner_region_id is not None and self.approved_by_id is None

    @property
    def can_be_submitted(self) -> bool:
        """A region's draft not yet approved can be sent to the national office for approval."""
        return self.is_draft and self.needs_approval

    @property
    def can_be_started(self) -> bool:
        """A draft or a scheduled mailing can start sending (once approved, if it needs it) or
        be scheduled."""
        return self.is_draft or self.is_scheduled

    @property
    def can_be_paused(self) -> bool:
        return self.is_sending

    @property
    def can_be_resumed(self) -> bool:
        return self.status == self.Status.PAUSED

    @property
    def can_be_cancelled(self) -> bool:
        return self.status in (self.Status.SCHEDULED, self.Status.SENDING, self.Status.PAUSED)


class Delivery(models.Model):
    """One message of a mailing to one address: the ledger that makes sending exactly-once.

    A Labour group with no address to write to but a postal address gets a letter instead: a
    row by post (no email; its address in `context["postal_address"]`), one per group, to be
    printed, then printed (`sent_at` and `printed_by` say when first and by whom; every print
    is a LetterPrint). Workers only ever claim pending rows, so they never touch a letter."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        CLAIMED = "claimed", "Being sent"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SUPPRESSED = "suppressed", "Suppressed"
        CANCELLED = "cancelled", "Cancelled"
        TO_PRINT = "to_print", "To be printed"
        PRINTED = "printed", "Printed"

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        POST = "post", "Post"

    mailing = models.ForeignKey(Mailing, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(
        max_length=5, choices=Channel.choices, default=Channel.EMAIL, db_default=Channel.EMAIL
    )
    email = models.EmailField(blank=True)
    # The Labour group the address was chosen for (the first, when several picked it).
    group = models.ForeignKey(
        "regions.CouncilGroup", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Plain values for the merge fields, captured when the audience was snapshotted.
    context = models.JSONField(default=dict)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=200, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    message_id = models.CharField(max_length=255, blank=True)
    last_error = models.TextField(blank=True)
    # Who first printed a letter (by post only).
    printed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["mailing", "email"],
                condition=models.Q(channel="email"),
                name="one_delivery_per_address",
            ),
            models.UniqueConstraint(
                fields=["mailing", "group"],
                condition=models.Q(channel="post"),
                name="one_letter_per_group",
            ),
        ]
        indexes = [
            models.Index(
                fields=["mailing", "next_attempt_at"],
                condition=models.Q(status="pending"),
                name="delivery_pending_idx",
            ),
            models.Index(
                fields=["claimed_at"],
                condition=models.Q(status="claimed"),
                name="delivery_claimed_idx",
            ),
        ]
        verbose_name_plural = "deliveries"

    def __str__(self):
        return f"{self.mailing_id} → {self.email or self.group_id} ({self.status})"


class LetterPrint(models.Model):
    """One printing of a mailing's letters: when, by whom, and how many letters it held.
    Printing again (a jammed printer, a lost envelope) adds a print, never a letter."""

    mailing = models.ForeignKey(Mailing, on_delete=models.CASCADE, related_name="letter_prints")
    printed_at = models.DateTimeField(default=timezone.now)
    printed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    letters = models.PositiveIntegerField()

    class Meta:
        ordering = ["printed_at", "pk"]

    def __str__(self):
        return f"{self.letters} letters of mailing {self.mailing_id}, {self.printed_at:%Y-%m-%d}"


class Suppression(models.Model):
    """An address that must not be written to: both the audience count and the sender skip it."""

    class Reason(models.TextChoices):
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
        HARD_BOUNCE = "bounced", "Hard bounce"
        COMPLAINT = "complained", "Complaint"
        STAFF = "staff", "Added by staff"

    email = models.EmailField()
    reason = models.CharField(max_length=20, choices=Reason.choices)
    created_at = models.DateTimeField(default=timezone.now)
    mailing = models.ForeignKey(
        Mailing, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(Lower("email"), name="one_suppression_per_address")]

    def __str__(self):
        return f"{self.email} ({self.get_reason_display()})"

    @property
    def is_unsubscribe(self) -> bool:
        """The person asked to stop (and may ask to start again)."""
        return self.reason == self.Reason.UNSUBSCRIBED

    @property
    def is_hard_bounce(self) -> bool:
        return self.reason == self.Reason.HARD_BOUNCE

    @property
    def is_complaint(self) -> bool:
        return self.reason == self.Reason.COMPLAINT


class SuppressionLift(models.Model):
    """When an address last came off the suppression list (staff removed it, or its owner asked
    for mailings again). A provider's report about mail sent before then is old news: it must not
    put the address back. The address is kept only as a digest."""

    address_digest = models.CharField(max_length=64, unique=True)
    lifted_at = models.DateTimeField()

    def __str__(self):
        return f"Lifted at {self.lifted_at:%Y-%m-%d %H:%M}"


class ProviderEvent(models.Model):
    """A bounce, complaint or unsubscribe report from the email provider, by the provider's own
    id: the same report posted twice (a retry, or a replay) is acted on once."""

    esp = models.CharField(max_length=50)
    event_id = models.CharField(max_length=255)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["esp", "event_id"], name="one_provider_event_per_id")
        ]

    def __str__(self):
        return f"{self.esp} {self.event_id}"
