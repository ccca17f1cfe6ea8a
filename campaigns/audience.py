"""Who a mailing goes to: its audience rule resolved into addresses and merge-field values.

The rule picks council Labour groups (on councils in being today) by region, council type,
control and election date, then which addresses of each group receive the mailing. Resolving
makes the same small number of queries however many groups match, so the composer can show a
live count and the sender can snapshot thousands of deliveries.

Control: the council data labels control as a party code ("LAB"), a minority ("LAB min"), a
directly elected mayor ("LAB Mayor") or a coalition or shared control ("LD/LAB/GRN"). Each
choice in ``regions.control.CONTROL_CHOICES`` (shared with the region dashboard's filter) names
one kind of label, and every label falls under exactly one
choice: Labour majority, minority, shared control or mayor; another party's majority or mayor;
no overall control without Labour (other parties' minorities and coalitions); and "other" for
anything else (a local party such as "Aspire Mayor" or "PIP/CIIP", "TBC", or no label). Several
choices match any of them. Rules saved before these choices existed hold bare party codes
(``LEGACY_CONTROL_CHOICES``): they still match any label naming that party, as they always did.

Addresses: the group contact address, the current leader and secretary (their account
addresses), and every serving councillor on the council who has not opted out of campaign
mailings. Only active accounts count, and an officer too must be a serving councillor who has
not opted out: otherwise the office counts as vacant. When the leader's or secretary's office
is vacant and ``fall_back_to_contact`` is set, the group contact address is used instead.
Each address appears once, lower-cased; when it belongs to several groups the first group (by
council name) supplies its merge values, and a person's own address keeps their name rather than the
group's (a person without a name is greeted as "colleague", like a group's address). Dates are
ISO text ("2027-05-06"): rendering shows them as "6 May 2027" or as a |date filter asks.
Addresses on the suppression list are left out and reported.

A mailing may instead be addressed to people by their booking on an event
(``Mailing.event_audience``): the councillors holding a booked place on it, or the serving
councillors who are not booked on it and want to hear of training and events. Either way only
the councillors of the regions chosen (any, when none is), with active accounts; each with the
merge values of their own council, its Labour group and region.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import date

from django.db.models import Prefetch
from django.db.models.functions import Lower

from events.selectors import booked_users_of
from members.models import Councillor
from regions.control import control_filter
from regions.models import Council, CouncilGroup, Election, GroupOfficer

from .models import Delivery, EventAudience, Mailing, Suppression
from .rendering import raw_value

Recipients = Mailing.Recipients

# What the greeting says when writing to a group's shared address rather than a person.
CONTACT_FIRST_NAME = "colleague"


@dataclasses.dataclass(frozen=True)
class Recipient:
    email: str
    context: dict
    # The group the address was chosen for (the first, when several picked it).
    group_id: int | None = None


@dataclasses.dataclass
class Audience:
    recipients: list[Recipient]
    suppressed: list[str]
    # (group id, group name, council name) for groups none of whose addresses will be written to.
    groups_without_address: list[tuple[int, str, str]]
    # Suppressed address: the group it would have been written for (the first that picked it).
    suppressed_groups: dict[str, int] = dataclasses.field(default_factory=dict)
    # How many groups the rule picks, with an address or not.
    group_count: int = 0
    # For an audience of people by their booking on an event: who they are, in words.
    people: str = ""
    # A letter for each group without an address to write to that has a postal address: the
    # context holds its merge values and its "postal_address".
    letters: list[Recipient] = dataclasses.field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.recipients)


def audience_groups(
    *,
    region_ids: Iterable[int] = (),
    council_kinds: Iterable[str] = (),
    controls: Iterable[str] = (),
    election_date: date | None = None,
):
    """The Labour groups an audience rule picks, without their addresses."""
    groups = CouncilGroup.objects.filter(council__in=Council.objects.current().values("pk"))
    region_ids = list(region_ids)
    if region_ids:
        groups = groups.filter(council__region_id__in=region_ids)
    council_kinds = list(council_kinds)
    if council_kinds:
        groups = groups.filter(council__kind__in=council_kinds)
    query = control_filter(controls)
    if query:
        groups = groups.filter(query)
    if election_date:
        groups = groups.filter(
            council__in=Election.objects.filter(date=election_date).values("council_id")
        )
    return groups.order_by("council__short_name", "pk")


def audience_resolve_rule(
    *,
    region_ids: Iterable[int] = (),
    council_kinds: Iterable[str] = (),
    controls: Iterable[str] = (),
    election_date: date | None = None,
    recipients: Iterable[str] = (),
    fall_back_to_contact: bool = True,
    event_id: int | None = None,
    event_audience: str = "",
) -> Audience:
    """Resolve rule values (as on a Mailing, regions as ids) into an Audience."""
    if event_audience:
        return audience_resolve_event_people(
            event_id=event_id, event_audience=event_audience, region_ids=region_ids
        )
    kinds = set(recipients)
    groups = audience_groups(
        region_ids=region_ids,
        council_kinds=council_kinds,
        controls=controls,
        election_date=election_date,
    ).select_related("council__region")
    if election_date:
        elections = Election.objects.filter(date=election_date)
    else:
        elections = Election.objects.upcoming()
    groups = groups.prefetch_related(
        Prefetch("council__elections", queryset=elections, to_attr="audience_elections")
    )
    offices = [r for r in (Recipients.LEADER, Recipients.SECRETARY) if r in kinds]
    if offices:
        groups = groups.prefetch_related(
            Prefetch(
                "officers",
                # Only serving councillors who want campaign mailings hold an office here;
                # anyone else leaves it vacant.
                queryset=GroupOfficer.objects.current()
                .filter(
                    role__in=offices,
                    user__is_active=True,
                    user__councillor__isnull=False,
                    user__councillor__left_on__isnull=True,
                    user__councillor__wants_campaign_mailings=True,
                )
                .select_related("user"),
                to_attr="audience_officers",
            )
        )
    if Recipients.ALL_COUNCILLORS in kinds:
        groups = groups.prefetch_related(
            Prefetch(
                "council__councillors",
                queryset=Councillor.objects.serving()
                .filter(user__is_active=True, wants_campaign_mailings=True)
                .select_related("user")
                .order_by("user__full_name", "pk"),
                to_attr="audience_councillors",
            )
        )

    candidates: list[tuple[CouncilGroup, list[tuple[str, dict, str]]]] = []
    for group in groups:
        candidates.append((group, _group_addresses(group, kinds, offices, fall_back_to_contact)))

    every_address = {email for _, addresses in candidates for email, _, _ in addresses}
    suppressed = _suppressed(every_address)

    seen: dict[str, Recipient] = {}
    suppressed_groups: dict[str, int] = {}
    without_address = []
    letters = []
    for group, addresses in candidates:
        usable = [address for address in addresses if address[0] not in suppressed]
        for email, _, _ in addresses:
            if email in suppressed:
                suppressed_groups.setdefault(email, group.pk)
        group_context = _group_context(group)
        if not usable:
            without_address.append((group.pk, group.name, group.council.name))
            if group.postal_address.strip():
                letters.append(_letter(group, group_context))
        for email, person, reason in usable:
            if email not in seen:
                # The reason (a Mailing.Recipients value) tells the footer why they get it.
                seen[email] = Recipient(
                    email=email,
                    context={"recipient": person, "reason": reason, **group_context},
                    group_id=group.pk,
                )
    return Audience(
        recipients=list(seen.values()),
        suppressed=sorted(suppressed),
        groups_without_address=without_address,
        suppressed_groups=suppressed_groups,
        group_count=len(candidates),
        letters=letters,
    )


def audience_resolve(mailing: Mailing) -> Audience:
    """Resolve a saved mailing's audience rule."""
    return audience_resolve_rule(
        region_ids=[region.pk for region in mailing.regions.all()],
        council_kinds=mailing.council_kinds or (),
        controls=mailing.controls or (),
        election_date=mailing.election_date,
        recipients=mailing.recipients or (),
        fall_back_to_contact=mailing.fall_back_to_contact,
        event_id=mailing.event_id,
        event_audience=mailing.event_audience,
    )


def audience_resolve_event_people(
    *, event_id: int, event_audience: str, region_ids: Iterable[int] = ()
) -> Audience:
    """The councillors booked on the event, or the serving ones not booked on it who want to
    hear of training and events; of these regions (all when none)."""
    booked = booked_users_of(event_id)
    if event_audience == EventAudience.BOOKED:
        councillors = Councillor.objects.filter(user__in=booked)
    else:
        councillors = (
            Councillor.objects.serving().filter(wants_training_events=True).exclude(user__in=booked)
        )
    region_ids = list(region_ids)
    if region_ids:
        councillors = councillors.filter(council__region_id__in=region_ids)
    councillors = (
        councillors.filter(user__is_active=True)
        .exclude(user__email="")
        .select_related("user", "council__region", "council__labour_group")
        .prefetch_related(
            Prefetch(
                "council__elections",
                queryset=Election.objects.upcoming(),
                to_attr="audience_elections",
            )
        )
        .order_by("user__full_name", "pk")
    )
    addresses = {c.user.email.strip().lower(): c for c in councillors}
    suppressed = _suppressed(set(addresses))
    recipients = [
        Recipient(
            email=email,
            context={
                "recipient": _person(councillor.user),
                "reason": f"event_{event_audience}",
                **_council_context(councillor.council),
            },
        )
        for email, councillor in addresses.items()
        if email not in suppressed
    ]
    return Audience(
        recipients=recipients,
        suppressed=sorted(suppressed),
        groups_without_address=[],
        people=EventAudience(event_audience).label,
    )


def _person(user) -> dict:
    first_name = user.first_name
    return {
        "first_name": first_name or CONTACT_FIRST_NAME,
        "full_name": user.full_name or first_name or CONTACT_FIRST_NAME,
    }


def _group_addresses(group, kinds, offices, fall_back_to_contact) -> list[tuple[str, dict, str]]:
    """A group's addresses for the chosen recipient kinds, with the kind that chose each,
    people before the shared address so that a person's own address keeps their name (and an
    officer's their office)."""
    contact = group.contact_email.strip().lower()
    contact_person = {"first_name": CONTACT_FIRST_NAME, "full_name": group.name}
    addresses: list[tuple[str, dict, str]] = []
    use_contact = Recipients.CONTACT in kinds
    holders = {}
    for officer in getattr(group, "audience_officers", ()):
        if officer.user.is_active and officer.user.email:
            holders.setdefault(officer.role, officer.user)
    for role in offices:
        user = holders.get(role)
        if user:
            addresses.append((user.email.strip().lower(), _person(user), str(role)))
        elif fall_back_to_contact:
            use_contact = True
    for councillor in getattr(group.council, "audience_councillors", ()):
        if councillor.user.email:
            addresses.append(
                (
                    councillor.user.email.strip().lower(),
                    _person(councillor.user),
                    Recipients.ALL_COUNCILLORS.value,
                )
            )
    if use_contact and contact:
        addresses.append((contact, contact_person, Recipients.CONTACT.value))
    return addresses


def _letter(group, group_context: dict) -> Recipient:
    """A letter to the group at its postal address, greeted as its contact address would be."""
    return Recipient(
        email="",
        context={
            "recipient": {"first_name": CONTACT_FIRST_NAME, "full_name": group.name},
            "reason": "post",
            "postal_address": group.postal_address.strip(),
            **group_context,
        },
        group_id=group.pk,
    )


def _group_context(group) -> dict:
    return _council_context(group.council, group_name=group.name)


def _council_context(council, *, group_name: str | None = None) -> dict:
    """The merge values of a council (with its region and next election) and its group."""
    if group_name is None:
        group = getattr(council, "labour_group", None)
        group_name = group.name if group is not None else ""
    elections = council.audience_elections
    election = elections[0] if elections else None
    return {
        "group": {"name": group_name},
        "council": {"name": council.name},
        "region": {"name": council.region.name},
        "election": {
            "date": election.date.isoformat() if election else "",
            "seats_up": election.seats_up if election else "",
            "labour_seats_up": election.labour_seats_up if election else "",
        },
    }


def audience_recorded(mailing: Mailing) -> Audience:
    """Who a started mailing was addressed to, with the values recorded for each when sending
    began, rather than whoever today's rule would pick."""
    rows = (
        Delivery.objects.filter(mailing=mailing, channel=Delivery.Channel.EMAIL)
        .exclude(status=Delivery.Status.SUPPRESSED)
        .order_by("pk")
        .values_list("email", "context")
    )
    return Audience(
        recipients=[Recipient(email=email, context=context) for email, context in rows],
        suppressed=[],
        groups_without_address=[],
    )


def missing_values(recipients: Iterable[Recipient], fields: Iterable[str]) -> dict[str, int]:
    """For each merge field ("election.date"), how many recipients have no value for it."""
    paths = {name: tuple(name.split(".")) for name in fields}
    counts = dict.fromkeys(paths, 0)
    for recipient in recipients:
        for name, path in paths.items():
            if raw_value(recipient.context, path) == "":
                counts[name] += 1
    return {name: count for name, count in counts.items() if count}


def _suppressed(emails: set[str]) -> set[str]:
    if not emails:
        return set()
    return set(
        Suppression.objects.annotate(address=Lower("email"))
        .filter(address__in=emails)
        .values_list("address", flat=True)
    )
