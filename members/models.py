from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.functional import cached_property
from simple_history import register
from simple_history.models import HistoricalRecords


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, email):
        return self.get(email__iexact=email)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who can log in. The email address is the login; roles are separate rows."""

    email = models.EmailField("email address", max_length=254, unique=True)
    full_name = models.CharField(max_length=150, blank=True)
    preferred_name = models.CharField(
        max_length=80, blank=True, help_text="What people call you, if not your first name."
    )
    is_staff = models.BooleanField(
        "admin site access",
        default=False,
        help_text="Set and cleared with the staff role; lets the person into the admin site.",
    )
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)
    # Raised to end every session of the person's but the current one (a changed second
    # factor, say): each session holds a hash that includes it, as it does the password.
    session_generation = models.PositiveIntegerField(default=0, editable=False)

    objects = UserManager()
    history = HistoricalRecords(excluded_fields=["password", "last_login", "session_generation"])

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["full_name", "email"]
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def __str__(self):
        return self.full_name or self.email

    def clean(self):
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    def get_full_name(self):
        return self.full_name

    def _get_session_auth_hash(self, secret=None):
        if not self.session_generation:
            return super()._get_session_auth_hash(secret=secret)
        return salted_hmac(
            "members.User.session_auth_hash",
            f"{self.password}\n{self.session_generation}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()

    def get_short_name(self):
        return self.first_name

    @property
    def first_name(self):
        return self.preferred_name or (self.full_name.split()[0] if self.full_name else "")

    # Roles. Each is a row of its own (StaffRole, regions.RegionalRepresentative, Councillor),
    # so a person can hold several and every appointment keeps its dates and history.
    @cached_property
    def is_national_staff(self) -> bool:
        return StaffRole.objects.filter(user=self).exists()

    @cached_property
    def represented_region_ids(self) -> frozenset[int]:
        return frozenset(self.representative_roles.current().values_list("region_id", flat=True))

    @property
    def is_representative(self) -> bool:
        return bool(self.represented_region_ids)

    @property
    def is_privileged(self) -> bool:
        """Whether the person's roles let them see other people's details or enter the admin
        site: such accounts must use two-factor authentication, their sessions end sooner, and
        only a superuser may change their address, password, permissions or staff role."""
        return (
            self.is_staff or self.is_superuser or self.is_national_staff or self.is_representative
        )

    @cached_property
    def pending_decisions(self):
        """Counts of the requests waiting for this person's decision (members.pending), or None
        for someone who decides none. Read once per request, by the navigation and home page."""
        from members.pending import pending_decisions_for

        return pending_decisions_for(self)

    @cached_property
    def councillor_or_none(self):
        return Councillor.objects.select_related("council__region").filter(user=self).first()


class StaffRole(models.Model):
    """Membership of the national office staff."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    since = models.DateField(default=timezone.localdate)
    job_title = models.CharField(max_length=120, blank=True)

    history = HistoricalRecords()

    def __str__(self):
        return f"{self.user} (staff)"


class CouncillorQuerySet(models.QuerySet):
    def serving(self):
        """Councillors still in office (not marked as having left)."""
        return self.filter(left_on__isnull=True)


class Councillor(models.Model):
    """A councillor's profile, linked to the council they sit on."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="councillor"
    )
    council = models.ForeignKey(
        "regions.Council", on_delete=models.PROTECT, related_name="councillors"
    )
    ward = models.CharField(max_length=150, blank=True)
    first_elected = models.DateField(null=True, blank=True)
    term_ends = models.DateField(null=True, blank=True)
    labour_coop = models.BooleanField("Labour & Co-operative councillor", default=False)
    phone = models.CharField(max_length=30, blank=True)
    bio = models.TextField("short public bio", max_length=1000, blank=True)
    # Communication preferences, by topic.
    wants_campaign_mailings = models.BooleanField("campaign mailings", default=True)
    wants_regional_news = models.BooleanField("regional news", default=True)
    wants_training_events = models.BooleanField("training and events", default=True)
    left_on = models.DateField("no longer a councillor from", null=True, blank=True)

    objects = CouncillorQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["user__full_name"]

    def __str__(self):
        return f"Cllr {self.user}"

    def get_absolute_url(self):
        return reverse("home")


class Position(models.Model):
    """A position a councillor holds, e.g. leader, cabinet member for housing, group whip."""

    councillor = models.ForeignKey(Councillor, on_delete=models.CASCADE, related_name="positions")
    title = models.CharField(max_length=150)
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["-start_date", "title"]

    def __str__(self):
        return self.title


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
    # When those who decide it were told of it (see join_request_notify).
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
    """A CSV import of councillors for a region: previewed, then applied all at once."""

    class Status(models.TextChoices):
        PREVIEWED = "previewed", "Previewed"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

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


# A person's email addresses (added, verified, made primary, removed) are part of their history.
# allauth owns the model, so its history table lives here.
register(EmailAddress, app="members", table_name="members_historicalemailaddress")


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
