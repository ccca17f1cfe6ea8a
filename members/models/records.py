"""Records the portal keeps of what it did: the export log, and the outbox of notices."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class ExportLogEntry(models.Model):
    """One download of personal data: who took it, when, what and how many rows. Written once
    and never changed or deleted (the database refuses both), so that the national office can
    always answer "who has had a copy of these people's details?"."""

    class Kind(models.TextChoices):
        REGION_COUNCILLORS = "region_councillors", "Councillors of a region (CSV)"
        REGION_GROUPS = "region_groups", "Labour groups of a region (CSV)"
        MAILING_REPORT = "mailing_report", "A mailing's report (CSV)"
        OWN_DATA_JSON = "own_data_json", "A person's own data (JSON)"
        OWN_DATA_CSV = "own_data_csv", "A person's own data (CSV)"
        CONFERENCE_PASSES = "conference_passes", "A conference's approved passes (CSV)"
        IMPORT_REJECTED_ROWS = "import_rejected_rows", "An import's rows with errors (CSV)"

    # PROTECT: an account that has taken personal data away is never deleted with its record.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="exports"
    )
    at = models.DateTimeField(default=timezone.now, db_index=True)
    kind = models.CharField(max_length=40, choices=Kind.choices)
    # Which region, mailing or person's data: names and ids only, never the data itself.
    subject = models.CharField(max_length=200)
    rows = models.PositiveIntegerField()

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = "export log entry"
        verbose_name_plural = "export log"

    def __str__(self):
        return f"{self.get_kind_display()}: {self.subject} ({self.rows} rows)"


class NoticeQuerySet(models.QuerySet):
    def due(self, now=None):
        """Waiting to be sent, and their time has come."""
        return self.filter(status=Notice.Status.QUEUED, next_attempt_at__lte=now or timezone.now())

    def failed_since(self, since):
        return self.filter(status=Notice.Status.FAILED, updated_at__gte=since)


class Notice(models.Model):
    """One email about a person's business: a request waiting for someone's decision, the
    decision, an invitation, an appointment... The outbox: every such email is a row, written in
    the same transaction as what it is about, and sent by whichever worker claims it (see
    members.services.notices). Nothing in Redis decides whether it went."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to be sent"
        SENDING = "sending", "Being sent"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    # What the notice is (e.g. "invitation"), and the occasion it is for (e.g. the join
    # request's id): with the recipient, unique, so that asking twice queues it once.
    kind = models.CharField(max_length=40)
    occasion = models.CharField(max_length=120)
    to_email = models.EmailField()
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The message as it was written when queued.
    subject = models.CharField(max_length=300)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    # Files sent with it, as written when queued: [{"filename", "mimetype", "content"}], the
    # content text (a calendar's .ics, say).
    attachments = models.JSONField(default=list, blank=True)
    # Once sent, the moment goes into this field of this row too (e.g. a join request's
    # invited_at): "<app_label>.<model>", its id, the field.
    stamps_model = models.CharField(max_length=60, blank=True)
    stamps_id = models.BigIntegerField(null=True, blank=True)
    stamps_field = models.CharField(max_length=40, blank=True)

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=200, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = NoticeQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "occasion", "to_email"], name="one_notice_per_occasion_and_person"
            )
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="queued"),
                name="notice_queued_idx",
            ),
            models.Index(
                fields=["claimed_at"],
                condition=models.Q(status="sending"),
                name="notice_sending_idx",
            ),
        ]

    def __str__(self):
        return f"{self.kind} {self.occasion} → {self.to_email} ({self.get_status_display()})"

    @property
    def is_sent(self) -> bool:
        return self.status == self.Status.SENT
