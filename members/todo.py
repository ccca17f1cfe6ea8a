"""What waits for each person, for their home page: one list of tasks per role they hold.

Each task is a count that links to the page listing exactly those things, counted through the
same access functions and conditions as that page, or a line saying that nothing waits. Other
apps add their own tasks (mailings, campaigns) through the `home_tasks` signal."""

import dataclasses

from django.db.models import Count, Min
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from members import access
from members.models import CouncillorImport, Decision, LevyWaiver
from members.services.invitations import invitations_not_taken_up
from members.signals import home_tasks
from regions.access import officers_visible_to
from regions.models import GroupOfficer
from regions.queues import QUEUES, queue_counts

COUNCILLOR, REPRESENTATIVE, STAFF = "councillor", "representative", "staff"


@dataclasses.dataclass(frozen=True)
class Task:
    """`count` things (`one` or `many` of them) waiting at `url`; `none` is said when there
    are none (an empty `none` leaves the task out). `role`: whose list it belongs on."""

    count: int
    one: str
    many: str
    url: str
    none: str = ""
    note: str = ""
    role: str = ""
    heading: str = ""  # a column heading, where regions are compared in a table

    @property
    def label(self) -> str:
        return self.one if self.count == 1 else self.many

    @property
    def shown(self) -> bool:
        return bool(self.count or self.none)


def _waiting_for(moment) -> str:
    """How long the oldest request has waited, in whole days."""
    if moment is None:
        return ""
    days = (timezone.now() - moment).days
    if days < 1:
        return "the oldest came in today"
    return f"the oldest has waited {days} day{pluralize(days)}"


def decision_tasks(user) -> list[Task]:
    """Requests waiting for the person's decision, each with the age of the oldest."""
    pending = user.pending_decisions
    if pending is None:
        return []
    queues = [
        ("join_requests", access.join_requests_managed_by, "requested_at", "join_requests"),
        ("profile_changes", access.profile_changes_managed_by, "requested_at", "decisions_changes"),
    ]
    if user.is_national_staff:
        queues += [
            ("waivers", access.waivers_managed_by, "applied_at", "decisions_waivers"),
            ("erasures", access.erasure_requests_managed_by, "requested_at", "decisions_erasures"),
        ]
    oldest = {
        name: managed(user).filter(status=Decision.PENDING).aggregate(at=Min(field))["at"]
        for name, managed, field, _url in queues
        if getattr(pending, name)
    }
    words = {
        "join_requests": ("join request waits", "join requests wait", "No join requests wait."),
        "profile_changes": (
            "council or ward change waits",
            "council or ward changes wait",
            "No council or ward changes wait.",
        ),
        "waivers": ("levy waiver waits", "levy waivers wait", "No levy waivers wait."),
        "erasures": ("erasure request waits", "erasure requests wait", "No erasure requests wait."),
    }
    return [
        Task(
            getattr(pending, name),
            *words[name][:2],
            url=reverse(url),
            none=words[name][2],
            note=_waiting_for(oldest.get(name)),
        )
        for name, _managed, _field, url in queues
    ]


def region_tasks(user, regions) -> dict[int, list[Task]]:
    """For each region the person runs: the councils and groups that need something, and the
    councillors who have yet to sign in. Two queries, whatever the number of regions."""
    region_ids = [region.pk for region in regions]
    counts = queue_counts(region_ids)
    not_signed_in = dict(
        invitations_not_taken_up(
            access.councillors_managed_by(user).filter(council__region_id__in=region_ids)
        )
        .order_by()
        .values_list("council__region_id")
        .annotate(n=Count("pk"))
    )
    tasks = {}
    for region in regions:
        url = region.get_absolute_url()
        tasks[region.pk] = [
            Task(
                counts[region.pk][queue.name],
                queue.one,
                queue.many,
                url=f"{url}?{urlencode(queue.params)}",
                none=queue.none,
                heading=queue.heading,
            )
            for queue in QUEUES
        ] + [
            Task(
                not_signed_in.get(region.pk, 0),
                "councillor has yet to sign in for the first time",
                "councillors have yet to sign in for the first time",
                url=reverse("region_invitations_resend", args=[region.slug]),
                none="Every councillor added has signed in.",
                heading="Yet to sign in",
            )
        ]
    return tasks


# The details of a profile that the home page asks a councillor to fill in, by the form field.
PROFILE_DETAILS = {
    "ward": "your ward or division",
    "first_elected": "when you were first elected",
    "term_ends": "when your term ends",
    "phone": "a phone number",
    "bio": "a short public bio",
}


def profile_gaps(councillor) -> list[tuple[str, str]]:
    """(form field, what it is) for each detail the councillor's profile lacks."""
    return [(name, what) for name, what in PROFILE_DETAILS.items() if not getattr(councillor, name)]


def group_officers(user, councillor) -> tuple | None:
    """The councillor's Labour group and who holds each office today (None for a vacant one),
    or None when their council has no Labour group recorded."""
    group = getattr(councillor.council, "labour_group", None)
    if group is None:
        return None
    holders = {
        officer.role: officer.user
        for officer in officers_visible_to(user)
        .current()
        .filter(group=group)
        .select_related("user")
        .order_by("role", "-start_date")
    }
    return group, [(label, holders.get(role)) for role, label in GroupOfficer.Role.choices]


def latest_waiver(councillor) -> LevyWaiver | None:
    return councillor.levy_waivers.order_by("-year", "-applied_at").first()


def next_election(councillor):
    """The next poll on the councillor's council, or None when none is scheduled."""
    return councillor.council.elections.upcoming().order_by("date").first()


def other_tasks(user) -> dict[str, list[Task]]:
    """The tasks other apps add, by the role whose list they go on."""
    tasks = {COUNCILLOR: [], REPRESENTATIVE: [], STAFF: []}
    for _receiver, returned in home_tasks.send(sender=None, user=user):
        for task in returned or ():
            tasks[task.role].append(task)
    return tasks


def imports_in_progress(user) -> list:
    """Imports queued or running, in the regions the person manages, oldest first."""
    statuses = [CouncillorImport.Status.QUEUED, CouncillorImport.Status.RUNNING]
    return list(
        access.imports_managed_by(user)
        .filter(status__in=statuses)
        .select_related("region", "uploaded_by")
        .order_by("uploaded_at", "pk")
    )
