"""Who may see and change which councillor profiles and people's requests. Every view that
touches a councillor, a council or ward change, a levy waiver, an erasure request, a join request
or an import gets it through here.

Each kind of object has a scoped queryset of what a person may know exists (`..._visible_to`,
`..._listed_for`) and one of what they may act on (`..._managed_by`). The `get_..._or_404`
functions look the object up in the first, so that an id the person may not know exists answers
404 whatever it is, and only then check the second, so that one they can see but not use answers
403. Join requests and imports are known only to those who manage their region, so the two are
the same for them and a refusal is always 404.

Councillors, by role:

- anyone signed in may see LISTED, by name and ward only, the serving councillors of every
  council they can see (a councillor: their own region's; a representative: their regions';
  staff: all), as on a council's list of councillors and a group's page;
- those who manage a region also see listed its FORMER councillors (marked as no longer
  serving), to correct or reinstate them; nobody else sees them listed;
- a person may OPEN (read in full) their own profile, and those they manage;
- representatives manage the profiles in their regions, staff all.

So a councillor asking for a colleague's page that they can see listed gets 403, and for a
councillor of another region, or one who has left, 404.

A councillor who has left (`left_on` set) keeps their own pages: their profile (name, contact
details, communication preferences), their data export and erasure request. Everything the
councillor role gave them goes: their region, council and group pages and colleagues (404, as
for anyone outside the region), and council or ward changes and levy waivers (403, with
FORMER_COUNCILLOR_REFUSED saying why).
"""

from datetime import timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.utils import timezone

from regions.access import (
    manages_region,
    regions_managed_by,
    regions_visible_to,
    require_national_staff,
)

from .models import (
    Councillor,
    CouncillorImport,
    Decision,
    EqualityMonitoring,
    ErasureRequest,
    JoinRequest,
    LevyWaiver,
    ProfileChange,
    User,
)

FORMER_COUNCILLOR_REFUSED = (
    "You are recorded as no longer a councillor, so you cannot {action}. If this is wrong, ask "
    "your regional representative or the national office to correct it."
)


# What a former councillor is refused, as FORMER_COUNCILLOR_REFUSED words it.
CHANGE_ACTION = "ask to change your council or ward"
WAIVER_ACTION = "apply for a levy waiver"
REGION_ACTION = "see your former region's page"


def former_councillor_refusal(action: str) -> str:
    return FORMER_COUNCILLOR_REFUSED.format(action=action)


def require_serving_councillor(councillor, *, action: str) -> None:
    """Refuse (403) what only a serving councillor may do, with a message saying why."""
    if councillor.left_on is not None:
        raise PermissionDenied(former_councillor_refusal(action))


def councillors_managed_by(user):
    """Profiles a person may change on someone's behalf: staff all, reps their regions'."""
    return Councillor.objects.filter(council__region__in=regions_managed_by(user))


def councillors_visible_to(user):
    """Profiles a person may open and read in full: their own, plus those they manage."""
    if not user.is_authenticated:
        return Councillor.objects.none()
    return Councillor.objects.filter(Q(user=user) | Q(council__region__in=regions_managed_by(user)))


def councillors_listed_for(user):
    """Councillors a person may see listed by name and ward (never contact details): the
    serving councillors of every council they can see. Lists of councillors use this; opening
    one goes through get_councillor_for_user_or_404."""
    if not user.is_authenticated:
        return Councillor.objects.none()
    return Councillor.objects.serving().filter(council__region__in=regions_visible_to(user))


def _councillors_known_to(user):
    """Profiles a person may know exist: those they can open and those they see listed."""
    if not user.is_authenticated:
        return Councillor.objects.none()
    return Councillor.objects.filter(
        Q(user=user)
        | Q(council__region__in=regions_managed_by(user))
        | Q(left_on__isnull=True, council__region__in=regions_visible_to(user))
    )


def get_councillor_for_user_or_404(user, pk, *, manage=False):
    """The profile `pk` if the person may open it (or, with `manage`, change it): 404 when they
    cannot know it exists, 403 when they see it listed but may not open or change it."""
    councillor = get_object_or_404(
        _councillors_known_to(user).select_related("user", "council__region"), pk=pk
    )
    manages = manages_region(user, councillor.council.region_id)
    if not (manages or (not manage and councillor.user_id == user.pk)):
        raise PermissionDenied
    return councillor


# Decisions on people's requests. Representatives decide council and ward changes for their
# regions; levy waivers, erasures and equality figures are for the national office only. The
# person a request concerns knows it exists (they see it on their own pages), so opening its
# decision page answers them 403; anyone else who may not decide it gets 404.


def may_decide_changes(user) -> bool:
    return user.is_authenticated and (user.is_national_staff or user.is_representative)


def require_change_decider(user) -> None:
    if not may_decide_changes(user):
        raise PermissionDenied


def may_view_equality_answers(user) -> bool:
    return (
        user.is_authenticated
        and user.is_national_staff
        and user.has_perm("members.view_equality_monitoring")
    )


def require_equality_viewer(user) -> None:
    require_national_staff(user)
    if not user.has_perm("members.view_equality_monitoring"):
        raise PermissionDenied


def equality_answers_visible_to(user):
    """Everyone's equality-monitoring answers, for the totals: only for national staff granted
    the dedicated permission; nobody else reads them, not even their region's representative."""
    if not may_view_equality_answers(user):
        return EqualityMonitoring.objects.none()
    return EqualityMonitoring.objects.all()


# A person's own records, for the pages where they read and change them.


def equality_answers_of(user):
    """The person's own equality-monitoring answers (at most one record)."""
    if not user.is_authenticated:
        return EqualityMonitoring.objects.none()
    return EqualityMonitoring.objects.filter(user=user)


def email_addresses_of(user):
    """The person's own email addresses, the primary one first."""
    if not user.is_authenticated:
        return EmailAddress.objects.none()
    return EmailAddress.objects.filter(user=user).order_by("-primary", "email")


def erasure_requests_of(user):
    """The person's own erasure requests, whatever their role (staff included)."""
    if not user.is_authenticated:
        return ErasureRequest.objects.none()
    return ErasureRequest.objects.filter(user=user)


def profile_changes_managed_by(user):
    """Council and ward changes a person may decide: those moving a councillor into one of the
    regions they represent (staff: all)."""
    return ProfileChange.objects.filter(council__region__in=regions_managed_by(user))


def profile_changes_visible_to(user):
    """Changes a person may know exist: their own (shown as pending on their profile) and those
    they may decide."""
    if not user.is_authenticated:
        return ProfileChange.objects.none()
    return ProfileChange.objects.filter(
        Q(councillor__user=user) | Q(council__region__in=regions_managed_by(user))
    )


def pending_changes_managed_by(user):
    return profile_changes_managed_by(user).filter(status=Decision.PENDING)


def get_profile_change_for_user_or_404(user, pk):
    change = get_object_or_404(
        profile_changes_visible_to(user).select_related(
            "councillor__user", "councillor__council", "council__region"
        ),
        pk=pk,
    )
    if not manages_region(user, change.council.region_id):
        raise PermissionDenied
    return change


def waivers_visible_to(user):
    """Levy waivers a person may know exist: their own applications; staff all. Not even the
    region's representative: that someone applied says something about their income."""
    if not user.is_authenticated:
        return LevyWaiver.objects.none()
    if user.is_national_staff:
        return LevyWaiver.objects.all()
    return LevyWaiver.objects.filter(councillor__user=user)


def waivers_managed_by(user):
    """Levy waivers a person may decide: all for staff; anyone else is refused (403)."""
    require_national_staff(user)
    return LevyWaiver.objects.all()


def get_waiver_for_user_or_404(user, pk):
    waiver = get_object_or_404(
        waivers_visible_to(user).select_related("councillor__user", "councillor__council"),
        pk=pk,
    )
    require_national_staff(user)
    return waiver


def erasure_requests_visible_to(user):
    """Erasure requests a person may know exist: their own; staff all."""
    if not user.is_authenticated:
        return ErasureRequest.objects.none()
    if user.is_national_staff:
        return ErasureRequest.objects.all()
    return ErasureRequest.objects.filter(user=user)


def erasure_requests_managed_by(user):
    """Erasure requests a person may carry out or refuse: all for staff; anyone else is
    refused (403)."""
    require_national_staff(user)
    return ErasureRequest.objects.all()


def get_erasure_request_for_user_or_404(user, pk):
    erasure = get_object_or_404(erasure_requests_visible_to(user).select_related("user"), pk=pk)
    require_national_staff(user)
    return erasure


def join_requests_managed_by(user):
    """Join requests a person may decide: staff all, representatives their regions'."""
    return JoinRequest.objects.filter(council__region__in=regions_managed_by(user))


def get_join_request_for_user_or_404(user, pk, *, pending=True):
    requests = join_requests_managed_by(user).select_related("council__region")
    if pending:
        requests = requests.filter(status=Decision.PENDING)
    return get_object_or_404(requests, pk=pk)


def imports_managed_by(user):
    """CSV imports of councillors: only those who manage the region ever see them."""
    return CouncillorImport.objects.filter(region__in=regions_managed_by(user))


def get_import_for_user_or_404(user, pk):
    return get_object_or_404(imports_managed_by(user).select_related("region"), pk=pk)


# People's accounts. What lets someone into an account (its address, its password) and what it
# may do (permissions, the staff role) are changed by the person themselves, on their account
# pages. Staff manage councillors' accounts for them; the accounts of staff, representatives and
# admin-site users only a superuser may change, so that nobody can take over a colleague whose
# powers equal or exceed their own.

SUPERUSER_ONLY = (
    "Only a superuser can change the address, password, permissions or roles of staff, "
    "representatives and admin-site users."
)


def may_change_sign_in(actor, target) -> bool:
    """Whether `actor` may change `target`'s email address, password or permissions."""
    if not actor.is_authenticated:
        return False
    if actor.is_superuser:
        return True
    return actor.is_national_staff and not target.is_privileged


def may_change_roles(actor, target) -> bool:
    """Whether `actor` may give or take away `target`'s staff role or representative
    appointments. National staff appoint and remove representatives; the roles of staff and
    admin-site users are a superuser's to change."""
    if not actor.is_authenticated:
        return False
    if actor.is_superuser:
        return True
    return actor.is_national_staff and not (
        target.is_staff or target.is_superuser or target.is_national_staff
    )


def representative_candidates(actor, region):
    """People national staff may appoint to represent `region` without typing an address: its
    serving councillors with an active account, other than its current representatives and
    anyone whose roles only a superuser changes (unless the actor is one)."""
    require_national_staff(actor)
    people = User.objects.filter(
        is_active=True,
        councillor__council__region=region,
        councillor__left_on__isnull=True,
    ).exclude(pk__in=region.representatives.current().values("user_id"))
    if not actor.is_superuser:
        people = people.exclude(is_staff=True).exclude(is_superuser=True)
        people = people.exclude(staffrole__isnull=False)
    return people.select_related("councillor__council").order_by("full_name", "email")


def require_role_changer(actor, target) -> None:
    if not may_change_roles(actor, target):
        raise PermissionDenied(SUPERUSER_ONLY)


ADDRESS_SIGNED_IN = (
    "They have signed in to the portal, so their email address is theirs to change, on their "
    "own account page, where the new address is confirmed from itself."
)
ADDRESS_HAS_ROLES = (
    "They are also a representative or member of staff: only a superuser can change their address."
)


def live_invitation_of(user):
    """The invitation still waiting for this account at its address (sent or about to go, and
    not yet past its lifetime), or None."""
    from .models import Decision, JoinRequest

    since = timezone.now() - timedelta(days=settings.INVITATION_DAYS)
    return (
        JoinRequest.objects.filter(email__iexact=user.email, status=Decision.APPROVED)
        .filter(Q(invited_at__gte=since) | Q(invited_at__isnull=True, decided_at__gte=since))
        .order_by("-decided_at")
        .first()
    )


def address_change_refusal(actor, target, *, new_email: str | None = None) -> str | None:
    """Why `actor` may not point `target`'s account at another email address, or None if they
    may. Only an account nobody has taken up can be re-pointed, by whoever manages it, to
    correct an address typed wrongly: once someone has signed in it is theirs. A representative
    may not re-point one while an invitation sent to its address still works, since whoever
    holds that address may be its owner; the national office can."""
    if target.last_login is not None or target.has_usable_password():
        return ADDRESS_SIGNED_IN
    if not may_change_sign_in(actor, target) and target.is_privileged:
        return ADDRESS_HAS_ROLES
    if actor.is_national_staff or actor.is_superuser:
        return None
    if new_email is not None and new_email.strip().lower() == target.email.lower():
        return None
    invitation = live_invitation_of(target)
    if invitation is not None:
        sent = invitation.invited_at or invitation.decided_at
        until = timezone.localtime(sent + timedelta(days=settings.INVITATION_DAYS))
        return (
            f"An invitation to {target.email} still works until {until:%-d %B %Y}: whoever holds "
            "that address may be the councillor, so only the national office can point the "
            "account at another address before then."
        )
    return None


def export_log_visible_to(user):
    """The export log: the national office reads it (nobody may change it)."""
    from .models import ExportLogEntry

    if not (user.is_authenticated and user.is_national_staff):
        return ExportLogEntry.objects.none()
    return ExportLogEntry.objects.all()
