"""Factories for invented people and their roles."""

import datetime
import time

import factory
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value

from members.models import Councillor, StaffRole, User
from regions.models import Council, Region, RegionalRepresentative

PASSWORD = "correct-horse-battery-42"
TOTP_SECRET = "JBSWY3DPEHPK3PXPTESTSECRET234567"


def totp_code(secret: str = TOTP_SECRET) -> str:
    """The authenticator-app code for this moment."""
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    full_name = factory.Faker("name", locale="en_GB")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def verified(user, create, extracted, **kwargs):
        if create:
            EmailAddress.objects.create(
                user=user, email=user.email, primary=True, verified=extracted is not False
            )


class TwoFactorUserFactory(UserFactory):
    """A user enrolled in TOTP two-factor authentication with TOTP_SECRET."""

    @factory.post_generation
    def totp(user, create, extracted, **kwargs):
        if create:
            TOTP.activate(user, TOTP_SECRET)


class StaffFactory(TwoFactorUserFactory):
    is_staff = True

    @factory.post_generation
    def staff_role(user, create, extracted, **kwargs):
        if create:
            StaffRole.objects.create(user=user)


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"Region {n}")
    slug = factory.LazyAttribute(lambda r: r.name.lower().replace(" ", "-"))


class CouncilFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Council

    gss_code = factory.Sequence(lambda n: f"X{n:08d}")
    name = factory.Sequence(lambda n: f"Borough Council {n}")
    short_name = factory.LazyAttribute(lambda c: c.name.replace("Borough Council", "Borough"))
    slug = factory.Sequence(lambda n: f"council-{n}")
    kind = Council.Kind.UNITARY
    region = factory.SubFactory(RegionFactory)
    total_seats = 50
    labour_seats = 20
    control = "LAB"
    election_pattern = Council.ElectionPattern.ALL_OUT


class RepresentativeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RegionalRepresentative

    user = factory.SubFactory(TwoFactorUserFactory)
    region = factory.SubFactory(RegionFactory)


class CouncillorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Councillor

    user = factory.SubFactory(UserFactory)
    council = factory.SubFactory(CouncilFactory)
    ward = factory.Faker("street_name", locale="en_GB")


# Groups, officers, elections, campaigns and mailings.


class CouncilGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "regions.CouncilGroup"

    council = factory.SubFactory(CouncilFactory)
    name = factory.LazyAttribute(lambda g: f"{g.council.short_name} Labour Group")
    contact_email = factory.Sequence(lambda n: f"group{n}@labour.example.org")


class GroupOfficerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "regions.GroupOfficer"

    group = factory.SubFactory(CouncilGroupFactory)
    role = "leader"
    user = factory.SubFactory(UserFactory)


class ElectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "regions.Election"

    council = factory.SubFactory(CouncilFactory)
    date = factory.Faker("date_between", start_date="+30d", end_date="+700d")
    seats_up = 30
    labour_seats_up = 12


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "campaigns.Campaign"

    title = factory.Sequence(lambda n: f"Campaign {n}")
    slug = factory.Sequence(lambda n: f"campaign-{n}")
    summary = "A campaign councils can adopt."
    body = "Why it matters."


class MailingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "campaigns.Mailing"
        skip_postgeneration_save = True

    subject = factory.Sequence(lambda n: f"Mailing {n}")
    body = "Dear {{ recipient.first_name }}, news for {{ group.name }}."
    recipients = factory.LazyFunction(lambda: ["contact"])

    @factory.post_generation
    def regions(mailing, create, extracted, **kwargs):
        if create and extracted:
            mailing.regions.set(extracted)


class SuppressionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "campaigns.Suppression"

    email = factory.Sequence(lambda n: f"suppressed{n}@example.org")
    reason = "unsubscribed"


# Councillors' requests: council and ward changes, levy waivers, erasure requests.


class PositionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "members.Position"

    councillor = factory.SubFactory(CouncillorFactory)
    title = "Cabinet member for housing"


class ProfileChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "members.ProfileChange"

    councillor = factory.SubFactory(CouncillorFactory)
    council = factory.LazyAttribute(lambda c: c.councillor.council)
    ward = factory.Sequence(lambda n: f"New Ward {n}")


class LevyWaiverFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "members.LevyWaiver"

    councillor = factory.SubFactory(CouncillorFactory)
    year = 2026
    circumstances = "My allowance is my only income."
    declaration = True


class ErasureRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "members.ErasureRequest"

    user = factory.SubFactory(UserFactory)


def profile_form_data(councillor, **changes) -> dict:
    """What the profile edit form posts when the councillor changes only `changes`."""
    data = {
        "full_name": councillor.user.full_name,
        "preferred_name": "",
        "council": councillor.council_id,
        "ward": councillor.ward,
        "first_elected": "",
        "term_ends": "",
        "labour_coop": "no",
        "phone": councillor.phone,
        "bio": "",
        "wants_campaign_mailings": "on",
        "positions-TOTAL_FORMS": "0",
        "positions-INITIAL_FORMS": "0",
    }
    return {**data, **changes}


class ServingOfficerFactory(GroupOfficerFactory):
    """A group officer who is a serving councillor on the group's council, wanting campaign
    mailings unless told otherwise (`councillor__wants_campaign_mailings=False`)."""

    class Meta:
        skip_postgeneration_save = True

    @factory.post_generation
    def councillor(officer, create, extracted, **kwargs):
        if create and not Councillor.objects.filter(user=officer.user).exists():
            CouncillorFactory(user=officer.user, council=officer.group.council, **kwargs)


# Events: an event open for booking now, a fortnight away unless told otherwise.


def _soon(days, hour=10):
    from django.utils import timezone

    moment = timezone.localtime() + datetime.timedelta(days=days)
    return moment.replace(hour=hour, minute=0, second=0, microsecond=0)


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "events.Event"
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Training event {n}")
    kind = "training_day"
    description = "What councillors learn."
    starts_at = factory.LazyFunction(lambda: _soon(14))
    ends_at = factory.LazyAttribute(lambda e: e.starts_at + datetime.timedelta(hours=7))
    venue = "Unity House, Manchester"
    region = None
    booking_opens_at = factory.LazyAttribute(lambda e: e.starts_at - datetime.timedelta(days=60))
    booking_closes_at = factory.LazyAttribute(lambda e: e.starts_at - datetime.timedelta(hours=1))
    capacity = 20

    @factory.post_generation
    def organisers(event, create, extracted, **kwargs):
        if create and extracted:
            event.organisers.set(extracted)


class TimeSlotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "events.TimeSlot"

    event = factory.SubFactory(EventFactory, capacity=None)
    starts_at = factory.LazyAttribute(lambda s: s.event.starts_at)
    ends_at = factory.LazyAttribute(lambda s: s.starts_at + datetime.timedelta(minutes=45))


class SessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "events.Session"

    slot = factory.SubFactory(TimeSlotFactory)
    event = factory.LazyAttribute(lambda s: s.slot.event)
    track = "Campaigning"
    title = factory.Sequence(lambda n: f"Session {n}")
    speaker = factory.Faker("name", locale="en_GB")
    room = "Room 1"
    capacity = 10


def programme_create(event, *, slots: int, tracks: list[str], capacity: int = 10):
    """Sessions in `slots` slots of 45 minutes an hour apart, one per track in each."""
    made = []
    for number in range(slots):
        starts = event.starts_at + datetime.timedelta(hours=number)
        slot = TimeSlotFactory(
            event=event, starts_at=starts, ends_at=starts + datetime.timedelta(minutes=45)
        )
        made += [
            SessionFactory(slot=slot, event=event, track=track, capacity=capacity)
            for track in tracks
        ]
    return made
