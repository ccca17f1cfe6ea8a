"""Writes for people and their roles."""

from datetime import date

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from members.models import Councillor, StaffRole, User
from members.services.profile import notice_send_once
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


NATIONAL_STAFF_GROUP = "National staff"
# The apps whose models (and their history) national staff manage in the Django admin.
NATIONAL_STAFF_APPS = ("members", "regions", "campaigns")
# Equality-monitoring answers are for staff granted the dedicated permission one by one.
EQUALITY_MODEL = "equalitymonitoring"


def national_staff_group_sync() -> Group:
    """The auth group giving national staff the admin permissions of the portal's models,
    brought up to date with the models that exist now."""
    group, _ = Group.objects.get_or_create(name=NATIONAL_STAFF_GROUP)
    group.permissions.set(
        Permission.objects.filter(content_type__app_label__in=NATIONAL_STAFF_APPS).exclude(
            content_type__app_label="members", content_type__model=EQUALITY_MODEL
        )
    )
    return group


@transaction.atomic
def staff_appoint(*, user: User, job_title: str = "", since: date | None = None) -> StaffRole:
    """Make the person national staff: the role, admin site access and the staff permissions.
    Appointing someone who is staff already leaves their role as it is."""
    defaults = {"job_title": job_title, **({"since": since} if since else {})}
    role, _ = StaffRole.objects.get_or_create(user=user, defaults=defaults)
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    user.groups.add(national_staff_group_sync())
    return role


@transaction.atomic
def staff_remove(*, user: User) -> None:
    """End the person's staff role and take away the admin access and permissions it gave.
    Permissions granted to them one by one, and superuser status, are left to a superuser."""
    StaffRole.objects.filter(user=user).delete()
    user.groups.remove(*Group.objects.filter(name=NATIONAL_STAFF_GROUP))
    if user.is_staff:
        user.is_staff = False
        user.save(update_fields=["is_staff"])


@transaction.atomic
def representative_appoint(*, user: User, region: Region) -> RegionalRepresentative:
    """Make the person a representative of the region and tell them by email. Appointing
    someone who already represents it changes nothing and sends nothing."""
    role, created = RegionalRepresentative.objects.get_or_create(
        user=user, region=region, end_date=None
    )
    if created:
        from members.tasks import representative_appointment_notify

        transaction.on_commit(lambda: representative_appointment_notify.delay(role.pk))
    return role


def representative_appointment_notify(*, appointment_id: int) -> bool:
    """Email a new representative which region they now represent, and that the portal will
    ask them to set up two-factor authentication when they first sign in as one. Sent once;
    nothing is sent if the appointment has ended meanwhile."""
    return _appointment_notice_send(
        appointment_id, ended=False, key="appointed", template="appointed_representative"
    )


def representative_removal_notify(*, appointment_id: int) -> bool:
    """Email a person whose appointment as representative has ended which region it was for and
    that they no longer look after it. Sent once; nothing is sent while it has not ended."""
    return _appointment_notice_send(
        appointment_id, ended=True, key="removed", template="removed_representative"
    )


def _appointment_notice_send(appointment_id: int, *, ended: bool, key: str, template: str):
    role = (
        RegionalRepresentative.objects.select_related("user", "region")
        .filter(pk=appointment_id, end_date__isnull=not ended, user__is_active=True)
        .first()
    )
    if role is None:
        return False
    context = {
        "region": role.region,
        "appointment": role,
        "portal_link": settings.PORTAL_URL.rstrip("/") + "/",
    }
    return notice_send_once(
        key=f"{key}:{role.pk}",
        template=f"members/email/{template}",
        context=context,
        to=role.user,
    )


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
