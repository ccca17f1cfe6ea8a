"""People and their roles: the account (an email address is the login), national staff, and
councillors with their positions."""

import functools

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Concat, Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.functional import cached_property
from simple_history import register
from simple_history.models import HistoricalRecords

# The kinds of second factor that count as two-factor authentication (recovery codes alone do not).
TWO_FACTOR_TYPES = ("totp", "webauthn")


# A value no person's id takes: where it falls among the compiled query's parameters is where
# each request's id goes.
_ANY_PERSON = -7_000_001


@functools.lru_cache(maxsize=2)
def _roles_query(on) -> tuple[str, tuple, int]:
    """with_roles's SQL for one person on a date, its parameters, and the index of the id."""
    query = User.objects.with_roles(on).filter(pk=_ANY_PERSON).query
    sql, params = query.sql_with_params()
    (at,) = [i for i, value in enumerate(params) if value == _ANY_PERSON]
    return sql, params, at


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

    def with_roles(self, on=None):
        """People with their roles (on a date, today by default) read in the same query: see
        User.is_national_staff and the properties after it."""
        from allauth.mfa.models import Authenticator
        from django.contrib.postgres.expressions import ArraySubquery

        from regions.models import RegionalRepresentative

        person = models.OuterRef("pk")
        represented = RegionalRepresentative.objects.current(on).filter(user=person)
        return self.annotate(
            roles_staff=models.Exists(StaffRole.objects.filter(user=person)),
            roles_region_ids=ArraySubquery(represented.order_by().values("region_id")),
            # For the menu: "slug name" (a slug has no spaces), by name.
            roles_regions=ArraySubquery(
                represented.order_by("region__name").values(
                    link=Concat("region__slug", models.Value(" "), "region__name")
                )
            ),
            roles_councillor=models.Exists(Councillor.objects.filter(user=person)),
            roles_serving=models.Exists(Councillor.objects.serving().filter(user=person)),
            roles_two_factor=models.Exists(
                Authenticator.objects.filter(user=person, type__in=TWO_FACTOR_TYPES)
            ),
        )

    def get_with_roles(self, pk):
        """The person with this id and their roles, or None: how each request loads the person
        signed in (members.backends), so that the navigation and the access checks of every
        page ask nothing more. The query is with_roles's, compiled once a day rather than for
        every request (building it is most of its cost)."""
        sql, params, at = _roles_query(timezone.localdate())
        params = [*params[:at], pk, *params[at + 1 :]]
        return next(iter(self.model.objects.raw(sql, params)), None)


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
    # Each is read from the annotations of UserManager.with_roles when the person was loaded with
    # them (the person signed in is), and asked of the database otherwise.
    @cached_property
    def is_national_staff(self) -> bool:
        if hasattr(self, "roles_staff"):
            return self.roles_staff
        return StaffRole.objects.filter(user=self).exists()

    @cached_property
    def represented_region_ids(self) -> frozenset[int]:
        if hasattr(self, "roles_region_ids"):
            return frozenset(self.roles_region_ids)
        return frozenset(self.representative_roles.current().values_list("region_id", flat=True))

    @cached_property
    def represented_regions(self) -> list[tuple[str, str]]:
        """The (slug, name) of each region the person represents, by name: for the menu."""
        if hasattr(self, "roles_regions"):
            return [tuple(link.split(" ", 1)) for link in self.roles_regions]
        return list(
            self.representative_roles.current()
            .order_by("region__name")
            .values_list("region__slug", "region__name")
        )

    @cached_property
    def is_councillor(self) -> bool:
        """Whether the person has a councillor's profile (serving or not)."""
        if hasattr(self, "roles_councillor"):
            return self.roles_councillor
        return Councillor.objects.filter(user=self).exists()

    @cached_property
    def is_serving_councillor(self) -> bool:
        """Whether the person is a councillor still in office (the menu offers their region)."""
        if hasattr(self, "roles_serving"):
            return self.roles_serving
        return Councillor.objects.serving().filter(user=self).exists()

    @cached_property
    def has_two_factor(self) -> bool:
        """Whether the person has enrolled an authenticator app or a security key."""
        if hasattr(self, "roles_two_factor"):
            return self.roles_two_factor
        from allauth.mfa.models import Authenticator

        return Authenticator.objects.filter(user=self, type__in=TWO_FACTOR_TYPES).exists()

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
        if not self.is_councillor:
            return None
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


# A person's email addresses (added, verified, made primary, removed) are part of their history.
# allauth owns the model, so its history table lives here.
register(EmailAddress, app="members", table_name="members_historicalemailaddress")
