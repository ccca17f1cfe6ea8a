from django.conf import settings
from django.db import models
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from simple_history.models import HistoricalRecords


class SubqueryCount(models.Subquery):
    """The number of rows a subquery returns, e.g. per region with OuterRef("pk")."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) AS counted)"
    output_field = models.IntegerField()


class RegionQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The regions a person may read: all for staff, their own for representatives and
        serving councillors, none for anyone else (a councillor who has left included)."""
        if not user.is_authenticated:
            return self.none()
        if user.is_national_staff:
            return self.all()
        # The region of the person's serving profile, as a subquery: joining every council's
        # councillors instead (and DISTINCT) reads them all, 8 ms at 20,000 councillors.
        own = Council.objects.filter(
            councillors__user=user, councillors__left_on__isnull=True
        ).values("region_id")
        return self.filter(models.Q(pk__in=user.represented_region_ids) | models.Q(pk__in=own))

    def with_national_figures(self, on=None):
        """Per region: current councils, Labour groups, serving councillors on the portal, and
        the groups missing a contact address, a leader or a secretary. One query, whatever
        the number of rows behind it."""
        region = models.OuterRef("pk")
        councils = Council.objects.current(on).filter(region=region)
        groups = CouncilGroup.objects.filter(council__in=Council.objects.current(on)).filter(
            council__region=region
        )
        # Both conditions in one filter() use one join; alone, `left_on__isnull` would also
        # match councils with no councillors at all.
        serving = councils.filter(
            councillors__isnull=False, councillors__left_on__isnull=True
        ).values("councillors")
        return self.annotate(
            council_count=SubqueryCount(councils.values("pk")),
            group_count=SubqueryCount(groups.values("pk")),
            councillor_count=SubqueryCount(serving),
            groups_without_address=SubqueryCount(groups.without_contact_address().values("pk")),
            groups_without_leader=SubqueryCount(
                groups.without_current(GroupOfficer.Role.LEADER, on).values("pk")
            ),
            groups_without_secretary=SubqueryCount(
                groups.without_current(GroupOfficer.Role.SECRETARY, on).values("pk")
            ),
        ).prefetch_related(
            models.Prefetch(
                "representatives",
                queryset=RegionalRepresentative.objects.current(on).select_related("user"),
                to_attr="current_representatives",
            )
        )

    def represented_by(self, user):
        if not user.is_authenticated:
            return self.none()
        if user.is_national_staff:
            return self.all()
        return self.filter(pk__in=user.represented_region_ids)


class Region(models.Model):
    """One of the association's 11 regions (England's nine, Scotland, Wales)."""

    name = models.CharField(max_length=60, unique=True)
    slug = models.SlugField(max_length=60, unique=True)

    objects = RegionQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("regions:region", args=[self.slug])


class CouncilQuerySet(models.QuerySet):
    def current(self, on=None):
        """Councils in being on a date (today by default): started and not yet abolished. A
        council's end date is its last day (the Surrey districts' is 31 March 2027; their
        successors take over on 1 April)."""
        on = on or timezone.localdate()
        return self.filter(
            models.Q(start_date__isnull=True) | models.Q(start_date__lte=on),
            models.Q(end_date__isnull=True) | models.Q(end_date__gte=on),
        )

    def former(self, on=None):
        """Councils that have ceased to exist by a date (today by default): abolished or merged
        into others. Their groups and history stay readable."""
        return self.filter(end_date__lt=on or timezone.localdate())

    def for_region(self, region):
        return self.filter(region=region)

    def visible_to(self, user):
        return self.filter(region__in=Region.objects.visible_to(user))

    def with_next_election_figures(self, on=None):
        """Annotate the next poll's `next_election_date`, `next_seats_up` and
        `next_labour_seats_up`, so councils can be filtered and sorted by them in SQL."""
        upcoming = Election.objects.upcoming(on).filter(council=models.OuterRef("pk"))
        upcoming = upcoming.order_by("date")
        return self.annotate(
            next_election_date=models.Subquery(upcoming.values("date")[:1]),
            next_seats_up=models.Subquery(upcoming.values("seats_up")[:1]),
            next_labour_seats_up=models.Subquery(upcoming.values("labour_seats_up")[:1]),
        )

    def with_portal_figures(self, on=None):
        """Annotate what a representative acts on: `portal_councillors`, the council's serving
        councillors on the portal, and `vacant_offices`, how many of its Labour group's offices
        nobody holds today (None for a council without a group)."""
        councillors = self.model._meta.get_field("councillors").related_model
        serving = (
            councillors.objects.filter(council=models.OuterRef("pk"), left_on__isnull=True)
            .order_by()
            .values("council")
            .annotate(n=models.Count("pk"))
            .values("n")
        )
        held = (
            GroupOfficer.objects.current(on)
            .filter(group__council=models.OuterRef("pk"))
            .order_by()
            .values("group__council")
            .annotate(n=models.Count("role", distinct=True))
            .values("n")
        )
        offices = len(GroupOfficer.Role)
        return self.annotate(
            portal_councillors=Coalesce(models.Subquery(serving), 0),
            vacant_offices=models.Case(
                models.When(
                    labour_group__isnull=False,
                    then=models.Value(offices) - Coalesce(models.Subquery(held), 0),
                ),
                default=None,
                output_field=models.IntegerField(),
            ),
        )

    def with_next_election(self):
        """Attach `upcoming_elections` (date order) without a query per council."""
        return self.prefetch_related(
            models.Prefetch(
                "elections", queryset=Election.objects.upcoming(), to_attr="upcoming_elections"
            )
        )


class Council(models.Model):
    """A principal council in Great Britain, as in the project's derived data file."""

    class Kind(models.TextChoices):
        NON_METROPOLITAN_DISTRICT = "NMD", "Non-metropolitan district"
        UNITARY = "UA", "Unitary authority"
        METROPOLITAN_DISTRICT = "MD", "Metropolitan district"
        LONDON_BOROUGH = "LBO", "London borough"
        CITY_OF_LONDON = "CC", "City of London Corporation"
        COUNTY = "CTY", "County council"
        SCOTTISH = "SCO", "Scottish council"
        WELSH = "WPA", "Welsh principal area"

    class ElectionPattern(models.TextChoices):
        ALL_OUT = "all-out", "All out"
        HALVES = "halves", "By halves"
        THIRDS = "thirds", "By thirds"
        NONE = "none", "No scheduled elections"

    gss_code = models.CharField("GSS code", max_length=20, unique=True)
    name = models.CharField("official name", max_length=200)
    short_name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120, unique=True)
    kind = models.CharField("type", max_length=3, choices=Kind.choices)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="councils")
    total_seats = models.PositiveIntegerField()
    labour_seats = models.PositiveIntegerField()
    control = models.CharField(max_length=60, blank=True)
    election_pattern = models.CharField(max_length=10, choices=ElectionPattern.choices)
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)
    # What the council data file said when it was last loaded (regions.services.councils).
    file_values = models.JSONField(default=dict, blank=True, editable=False)

    objects = CouncilQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["file_values"])

    class Meta:
        ordering = ["short_name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("regions:council", args=[self.slug])

    def is_former(self, on=None) -> bool:
        """Whether the council has ceased to exist (abolished or merged), by `on` or today."""
        return self.end_date is not None and self.end_date < (on or timezone.localdate())

    @property
    def next_election(self):
        """The next scheduled poll; uses `upcoming_elections` when prefetched."""
        if hasattr(self, "upcoming_elections"):
            return self.upcoming_elections[0] if self.upcoming_elections else None
        return self.elections.upcoming().first()


class ElectionQuerySet(models.QuerySet):
    def upcoming(self, on=None):
        return self.filter(date__gte=on or timezone.localdate())


class Election(models.Model):
    """A scheduled poll on a council: the seats up on that date and how many Labour holds."""

    council = models.ForeignKey(Council, on_delete=models.CASCADE, related_name="elections")
    date = models.DateField()
    seats_up = models.PositiveIntegerField()
    labour_seats_up = models.PositiveIntegerField()

    objects = ElectionQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(
                fields=["council", "date"], name="one_election_per_council_date"
            ),
            models.CheckConstraint(
                condition=models.Q(labour_seats_up__lte=models.F("seats_up")),
                name="labour_seats_up_within_seats_up",
            ),
        ]

    def __str__(self):
        return f"{self.council.short_name}, {self.date:%-d %B %Y}"


class CouncilGroupQuerySet(models.QuerySet):
    def without_contact_address(self):
        return self.filter(contact_email="")

    def without_current(self, role, on=None):
        """Groups with nobody holding `role` (a GroupOfficer.Role) today."""
        holders = GroupOfficer.objects.current(on).filter(group=models.OuterRef("pk"), role=role)
        return self.exclude(models.Exists(holders))


class CouncilGroup(models.Model):
    """The Labour group on a council."""

    council = models.OneToOneField(Council, on_delete=models.PROTECT, related_name="labour_group")
    name = models.CharField(max_length=200)
    contact_email = models.EmailField(
        "contact email address",
        blank=True,
        help_text="Where the association writes to the group, usually its secretary.",
    )
    phone = models.CharField("contact phone number", max_length=30, blank=True)
    postal_address = models.TextField(max_length=500, blank=True)

    objects = CouncilGroupQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["council__short_name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("regions:group", args=[self.pk])


class TermQuerySet(models.QuerySet):
    """Terms held from a start date until an end date, the first day no longer held (or with no
    end yet): group offices and representatives' appointments."""

    def current(self, on=None):
        """Terms in force on a date (today by default): begun and not yet ended. One dated in
        the future gives nothing until its first day."""
        on = on or timezone.localdate()
        return self.filter(
            models.Q(start_date__lte=on),
            models.Q(end_date__isnull=True) | models.Q(end_date__gt=on),
        )

    def not_ended(self, on=None):
        """Terms in force or still to begin: those staff may yet end or remove."""
        on = on or timezone.localdate()
        return self.filter(models.Q(end_date__isnull=True) | models.Q(end_date__gt=on))


class GroupOfficer(models.Model):
    """An office held in a council Labour group, with the dates it was held."""

    class Role(models.TextChoices):
        LEADER = "leader", "Leader"
        DEPUTY_LEADER = "deputy_leader", "Deputy leader"
        CHIEF_WHIP = "chief_whip", "Chief whip"
        SECRETARY = "secretary", "Secretary"

    group = models.ForeignKey(CouncilGroup, on_delete=models.CASCADE, related_name="officers")
    role = models.CharField(max_length=20, choices=Role.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="group_offices"
    )
    start_date = models.DateField(default=timezone.localdate)
    end_date = models.DateField(null=True, blank=True)

    objects = TermQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["group", "role", "-start_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["group", "role"],
                condition=models.Q(end_date__isnull=True),
                name="one_current_holder_per_office",
            ),
            models.CheckConstraint(
                condition=models.Q(end_date__isnull=True)
                | models.Q(end_date__gte=models.F("start_date")),
                name="office_ends_after_it_starts",
            ),
        ]

    def __str__(self):
        return f"{self.get_role_display()} of {self.group}: {self.user}"


class RegionalRepresentative(models.Model):
    """A person appointed to represent the association in a region. One person may hold several."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="representative_roles"
    )
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="representatives")
    start_date = models.DateField(default=timezone.localdate)
    end_date = models.DateField(null=True, blank=True)

    objects = TermQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        ordering = ["region__name", "start_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "region"],
                condition=models.Q(end_date__isnull=True),
                name="one_open_appointment_per_user_region",
            )
        ]

    def __str__(self):
        return f"{self.user} for {self.region}"
