"""Writes for people and their roles."""

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from django.db import transaction

from members.models import Councillor, StaffRole, User
from regions.models import Council, Region, RegionalRepresentative


@transaction.atomic
def user_ensure(*, email: str, full_name: str, password: str | None = None) -> tuple[User, bool]:
    """Return the user with this email, creating them (with a verified primary address) if new.

    An existing user's name and password are left alone, so running this again is harmless.
    """
    email = User.objects.normalize_email(email).lower()
    user = User.objects.filter(email__iexact=email).first()
    created = user is None
    if created:
        user = User.objects.create_user(email=email, password=password, full_name=full_name)
    EmailAddress.objects.get_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    return user, created


@transaction.atomic
def staff_appoint(*, user: User, job_title: str = "") -> StaffRole:
    role, _ = StaffRole.objects.get_or_create(user=user, defaults={"job_title": job_title})
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    return role


@transaction.atomic
def staff_remove(*, user: User) -> None:
    StaffRole.objects.filter(user=user).delete()
    if user.is_staff:
        user.is_staff = False
        user.save(update_fields=["is_staff"])


def representative_appoint(*, user: User, region: Region) -> RegionalRepresentative:
    role, _ = RegionalRepresentative.objects.get_or_create(user=user, region=region, end_date=None)
    return role


def councillor_ensure(*, user: User, council: Council, **profile) -> Councillor:
    councillor, _ = Councillor.objects.get_or_create(
        user=user, defaults={"council": council, **profile}
    )
    return councillor


@transaction.atomic
def two_factor_enrol(*, user: User, totp_secret: str) -> list[str]:
    """Give the user a TOTP authenticator with this secret and recovery codes, unless they have
    them already. Returns the unused recovery codes."""
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, totp_secret)
    codes = Authenticator.objects.filter(user=user, type=Authenticator.Type.RECOVERY_CODES).first()
    recovery = RecoveryCodes(codes) if codes else RecoveryCodes.activate(user)
    return recovery.get_unused_codes()
