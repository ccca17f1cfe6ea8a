"""Writes for the national office's staff: their role and the admin permissions it gives."""

from datetime import date

from django.contrib.auth.models import Group, Permission
from django.db import transaction

from members.models import StaffRole, User

NATIONAL_STAFF_GROUP = "National staff"


# The apps whose models (and their history) national staff manage in the Django admin.
NATIONAL_STAFF_APPS = ("members", "regions", "campaigns", "events")


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
