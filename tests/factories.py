"""Factories for invented people and their roles."""

import time

import factory
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value

from members.models import Councillor, StaffRole, User
from regions.models import Council, Region, RegionalRepresentative

PASSWORD = "correct-horse-battery-42"
TOTP_SECRET = "JBSWY3DPEHPK3PXPTESTSECRET23456"


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
