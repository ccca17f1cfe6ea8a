"""Attacks by one member of staff on another: changing a colleague's address or password (and
then signing in as them), their permissions or their roles. Only a superuser may; staff still
manage councillors' accounts."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from factories import (
    PASSWORD,
    CouncilFactory,
    CouncillorFactory,
    RegionFactory,
    StaffFactory,
    TwoFactorUserFactory,
)

from members.models import StaffRole, User
from members.services.representatives import representative_appoint
from members.services.staff import staff_appoint
from regions.models import RegionalRepresentative

pytestmark = pytest.mark.django_db

TAKEN = "attacker@example.org"


@pytest.fixture
def staff_a():
    person = TwoFactorUserFactory(email="a@alc.example.org")
    staff_appoint(user=person, job_title="Organiser")
    return person


@pytest.fixture
def staff_b():
    person = TwoFactorUserFactory(email="b@alc.example.org", full_name="Bea Colleague")
    staff_appoint(user=person, job_title="Membership officer")
    # B is a councillor too, so that the portal's councillor pages reach B's account.
    CouncillorFactory(user=person, council=CouncilFactory(slug="oakfield"))
    return person


def _as(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _user_form(person, **changes):
    return {
        "email": person.email,
        "full_name": person.full_name,
        "preferred_name": person.preferred_name,
        "is_active": "on",
        **changes,
    }


def _b_unchanged(staff_b):
    b = User.objects.get(pk=staff_b.pk)
    assert b.email == "b@alc.example.org"
    assert b.check_password(PASSWORD)
    assert not b.is_superuser and not b.user_permissions.exists()
    assert StaffRole.objects.get(user=b).job_title == "Membership officer"
    assert not RegionalRepresentative.objects.filter(user=b).exists()


def _attempts(staff_b):
    """Every way the portal offers to change someone's sign-in, powers or roles, as a
    (method, url, data) to send."""
    role = StaffRole.objects.get(user=staff_b)
    password = {"password1": "a-new-passphrase-99", "password2": "a-new-passphrase-99"}
    powers = {"is_superuser": "on", "is_staff": "on"}
    region = RegionFactory(name="Testshire")
    councillor = staff_b.councillor
    return {
        "admin email": (
            reverse("admin:members_user_change", args=[staff_b.pk]),
            _user_form(staff_b, email=TAKEN),
        ),
        "admin password": (
            reverse("admin:auth_user_password_change", args=[staff_b.pk]),
            password,
        ),
        "admin permissions": (
            reverse("admin:members_user_change", args=[staff_b.pk]),
            _user_form(
                staff_b,
                **powers,
                user_permissions=[Permission.objects.get(codename="view_equality_monitoring").pk],
            ),
        ),
        "admin delete account": (
            reverse("admin:members_user_delete", args=[staff_b.pk]),
            {"post": "yes"},
        ),
        "admin staff role change": (
            reverse("admin:members_staffrole_change", args=[role.pk]),
            {"since": "2026-01-05", "job_title": "Demoted"},
        ),
        "admin staff role removal": (
            reverse("admin:members_staffrole_delete", args=[role.pk]),
            {"post": "yes"},
        ),
        "admin staff roles removed in bulk": (
            reverse("admin:members_staffrole_changelist"),
            {"action": "delete_selected", "_selected_action": [role.pk], "post": "yes"},
        ),
        "admin representative appointment": (
            reverse("admin:regions_regionalrepresentative_add"),
            {"user": staff_b.pk, "region": region.pk, "start_date": "2026-01-05"},
        ),
        "admin email addresses": (
            reverse("admin:account_emailaddress_add"),
            {"user": staff_b.pk, "email": TAKEN, "verified": "on", "primary": "on"},
        ),
        "portal representative appointment": (
            reverse("representatives"),
            {"email": staff_b.email, "region": region.pk},
        ),
        "portal councillor edit": (
            reverse("councillor_edit", args=["oakfield", councillor.pk]),
            {"full_name": staff_b.full_name, "email": TAKEN, "ward": "W", "phone": ""},
        ),
    }


ATTEMPTS = [
    "admin email",
    "admin password",
    "admin permissions",
    "admin delete account",
    "admin staff role change",
    "admin staff role removal",
    "admin staff roles removed in bulk",
    "admin representative appointment",
    "admin email addresses",
    "portal representative appointment",
    "portal councillor edit",
]


@pytest.mark.parametrize("attempt", ATTEMPTS)
def test_staff_cannot_change_another_staff_members_sign_in_powers_or_roles(
    staff_a, staff_b, attempt
):
    url, data = _attempts(staff_b)[attempt]
    _as(staff_a).post(url, data)
    _b_unchanged(staff_b)


def test_staff_cannot_remove_another_staff_members_representative_appointment(staff_a, staff_b):
    appointment = representative_appoint(user=staff_b, region=RegionFactory(name="Testshire"))
    url = reverse("representative_remove", args=[appointment.pk])
    assert _as(staff_a).post(url).status_code == 403
    appointment.refresh_from_db()
    assert appointment.end_date is None


def test_a_superuser_can_change_a_staff_members_address_password_and_roles(staff_b):
    boss = _as(StaffFactory(is_superuser=True))
    attempts = _attempts(staff_b)
    boss.post(*attempts["admin email"])
    boss.post(*attempts["admin password"])
    boss.post(*attempts["admin staff role change"])
    b = User.objects.get(pk=staff_b.pk)
    assert b.email == TAKEN
    assert b.check_password("a-new-passphrase-99")
    assert StaffRole.objects.get(user=b).job_title == "Demoted"


def test_staff_still_manage_a_councillors_account(staff_a):
    councillor = CouncillorFactory()
    client = _as(staff_a)
    client.post(
        reverse("admin:members_user_change", args=[councillor.user.pk]),
        _user_form(councillor.user, email="corrected@example.org"),
    )
    assert User.objects.get(pk=councillor.user.pk).email == "corrected@example.org"
    response = client.post(
        reverse("representatives"),
        {"email": "corrected@example.org", "region": RegionFactory(name="Testshire").pk},
    )
    assert response.status_code == 302
    assert RegionalRepresentative.objects.filter(user=councillor.user).exists()
