"""What people ask for and what is decided: council and ward changes, levy waivers, erasure,
joining, and CSV imports of councillors; and equality-monitoring answers."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from .people import Councillor


class Decision(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REFUSED = "refused", "Refused"


class DecidedRequest(models.Model):
    """A request that waits for someone's decision: the outcome, who decided, when and why."""

    status = models.CharField(max_length=10, choices=Decision.choices, default=Decision.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True)

    class Meta:
        abstract = True

    @property
    def is_pending(self) -> bool:
        return self.status == Decision.PENDING

    @property
    def is_approved(self) -> bool:
        return self.status == Decision.APPROVED

    @property
    def is_refused(self) -> bool:
        return self.status == Decision.REFUSED

    def decision_record(self, *, by, approve: bool, reason: str = "") -> None:
        """Set the outcome on this object; the caller saves it inside its transaction."""
        self.status = Decision.APPROVED if approve else Decision.REFUSED
        self.decided_by, self.decided_at, self.reason = by, timezone.now(), reason.strip()


class ProfileChange(DecidedRequest):
    """A change of council or ward, waiting for the regional representative's approval."""

    councillor = models.ForeignKey(
        Councillor, on_delete=models.CASCADE, related_name="pending_changes"
    )
    council = models.ForeignKey("regions.Council", on_delete=models.PROTECT, related_name="+")
    ward = models.CharField(max_length=150, blank=True)
    requested_at = models.DateTimeField(default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["councillor"],
                condition=models.Q(status="pending"),
                name="one_pending_change_per_councillor",
            )
        ]

    def __str__(self):
        return f"{self.councillor}: {self.council}, {self.ward} ({self.status})"


class LevyWaiver(DecidedRequest):
    """An application to waive the association levy, decided by staff."""

    councillor = models.ForeignKey(
        Councillor, on_delete=models.CASCADE, related_name="levy_waivers"
    )
    year = models.PositiveIntegerField()
    circumstances = models.TextField(max_length=2000)
    declaration = models.BooleanField(default=False)
    applied_at = models.DateTimeField(default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-applied_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["councillor", "year"],
                condition=~models.Q(status="refused"),
                name="one_live_waiver_per_year",
            )
        ]

    def __str__(self):
        return f"Levy waiver {self.year} for {self.councillor} ({self.status})"


class ErasureRequest(DecidedRequest):
    """A person's request to erase their personal data, carried out by staff."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self):
        return f"Erasure request {self.pk} ({self.status})"


class EqualityMonitoring(models.Model):
    """Optional equality-monitoring answers, kept apart from the profile and given with consent.

    Only the member and staff holding `members.view_equality_monitoring` may see them.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="equality_monitoring"
    )
    consented_at = models.DateTimeField()
    answers = models.JSONField(default=dict)

    class Meta:
        permissions = [("view_equality_monitoring", "Can view equality-monitoring answers")]

    def __str__(self):
        return f"Equality monitoring for {self.user}"


class JoinRequest(DecidedRequest):
    """A newly elected councillor asking to join, approved by their region's representative."""

    full_name = models.CharField(max_length=150)
    email = models.EmailField()
    council = models.ForeignKey("regions.Council", on_delete=models.PROTECT, related_name="+")
    ward = models.CharField(max_length=150)
    requested_at = models.DateTimeField(default=timezone.now)
    # When the first of those who decide it was told of it (see join_request_notices_queue).
    notified_at = models.DateTimeField(null=True, blank=True)
    invited_at = models.DateTimeField(null=True, blank=True)
    # False for the records that only note an invitation sent to someone who did not ask to
    # join: a councillor added by hand or imported, or an invitation sent again.
    asked_to_join = models.BooleanField(default=True)

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self):
        return f"{self.full_name} ({self.council}, {self.status})"


class CouncillorImport(models.Model):
    """A CSV import for a region, of councillors or of its Labour groups' details (contact
    addresses and officers): previewed, then applied all at once."""

    class Kind(models.TextChoices):
        COUNCILLORS = "councillors", "Councillors"
        GROUPS = "groups", "Labour groups"

    class Status(models.TextChoices):
        PREVIEWED = "previewed", "Previewed"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.COUNCILLORS)
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)
    filename = models.CharField(max_length=255)
    content = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PREVIEWED)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    report = models.JSONField(default=dict)

    class Meta:
        ordering = ["-uploaded_at"]

    def __str__(self):
        return f"{self.filename} ({self.region}, {self.status})"

    @property
    def is_of_groups(self) -> bool:
        return self.kind == self.Kind.GROUPS

    @property
    def is_previewed(self) -> bool:
        return self.status == self.Status.PREVIEWED

    @property
    def is_done(self) -> bool:
        return self.status == self.Status.DONE

    @property
    def is_failed(self) -> bool:
        return self.status == self.Status.FAILED

    @property
    def is_in_progress(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def is_recoverable(self) -> bool:
        """Whether a failed import may simply be tried again: it failed for a reason other
        than its file (a worker or database problem), and the file is still kept."""
        return self.is_failed and bool(self.content) and bool(self.report.get("error"))
