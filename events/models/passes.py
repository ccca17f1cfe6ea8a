"""Conference passes: a serving councillor's application for the free ex-officio pass to the
annual conference, decided by the national office."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from .events import Event


class PassApplication(models.Model):
    """One councillor's application for a pass to one conference (one per person per
    conference: applying again after withdrawing reopens the same application)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for a decision"
        APPROVED = "approved", "Approved"
        # Approved while every pass was taken: the first to be given one when a pass is freed.
        WAITING = "waiting", "Approved, waiting for a pass"
        REFUSED = "refused", "Refused"
        WITHDRAWN = "withdrawn", "Withdrawn"

    class PassType(models.TextChoices):
        EX_OFFICIO = "ex_officio", "Ex-officio (free)"

    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="pass_applications")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pass_applications"
    )
    pass_type = models.CharField(
        max_length=20, choices=PassType.choices, default=PassType.EX_OFFICIO
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    applied_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField(blank=True, max_length=1000)

    history = HistoricalRecords()

    class Meta:
        ordering = ["applied_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "user"], name="one_pass_application_per_person"
            )
        ]

    def __str__(self):
        return f"{self.user}: {self.event} ({self.get_status_display()})"

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING

    @property
    def is_approved(self) -> bool:
        return self.status == self.Status.APPROVED

    @property
    def is_waiting(self) -> bool:
        return self.status == self.Status.WAITING

    @property
    def is_refused(self) -> bool:
        return self.status == self.Status.REFUSED

    @property
    def is_withdrawn(self) -> bool:
        return self.status == self.Status.WITHDRAWN

    @property
    def can_be_decided(self) -> bool:
        return self.is_pending

    @property
    def can_be_withdrawn(self) -> bool:
        return self.status in (self.Status.PENDING, self.Status.APPROVED, self.Status.WAITING)
