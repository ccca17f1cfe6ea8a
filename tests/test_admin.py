"""Staff can reach every model of the portal in the Django admin."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.urls import reverse
from factories import (
    CouncillorFactory,
    RegionFactory,
    StaffFactory,
    TwoFactorUserFactory,
    UserFactory,
)

from members.models import EqualityMonitoring, StaffRole, User
from members.services.staff import NATIONAL_STAFF_GROUP, staff_appoint, staff_remove
from regions.models import RegionalRepresentative

PORTAL_APPS = ["members", "regions", "campaigns", "events"]
MODELS = [
    model
    for app in PORTAL_APPS
    for model in apps.get_app_config(app).get_models()
    if not model.__name__.startswith("Historical")
]
# Admins that forbid adding on purpose: erasures are requested by the person and carried out
# from the Decisions pages; equality answers are given only by the member; the export log is
# written by the downloads themselves, the records of the provider's reports by the webhooks,
# and the outbox's notices by the changes they are about.
ADD_FORBIDDEN = {
    "members.ErasureRequest",
    "members.EqualityMonitoring",
    "members.ExportLogEntry",
    "campaigns.SuppressionLift",
    "campaigns.ProviderEvent",
    "members.Notice",
    # Bookings, their places and pass applications are made through the portal, which keeps
    # waiting lists and the cap on passes in order; calendar feeds by their owners.
    "events.Booking",
    "events.Place",
    "events.PassApplication",
    "events.CalendarFeed",
}


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.label)
def test_every_model_is_in_the_admin(model):
    assert admin.site.is_registered(model)


@pytest.mark.django_db
@pytest.mark.parametrize("model", MODELS, ids=lambda m: m._meta.label)
def test_staff_open_each_admin_list_and_add_page(client, model):
    staff = StaffFactory(is_superuser=True)
    client.force_login(staff)
    opts = model._meta
    changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    assert client.get(changelist).status_code == 200
    add = reverse(f"admin:{opts.app_label}_{opts.model_name}_add")
    expected = 403 if opts.label in ADD_FORBIDDEN else 200
    assert client.get(add).status_code == expected


def test_add_forbidden_names_only_portal_models():
    assert ADD_FORBIDDEN.issubset(model._meta.label for model in MODELS)


@pytest.fixture
def superuser(client):
    """Only a superuser changes or removes the role of someone who is already staff."""
    person = StaffFactory(is_superuser=True)
    client.force_login(person)
    return person


@pytest.fixture
def national_staff(client):
    """A national-office member appointed the usual way: staff, but not a superuser."""
    person = TwoFactorUserFactory()
    staff_appoint(user=person, job_title="Membership officer")
    client.force_login(person)
    return person


@pytest.mark.django_db
@pytest.mark.parametrize(
    "model",
    [
        "members.councillor",
        "regions.council",
        "regions.councilgroup",
        "members.levywaiver",
        "campaigns.mailing",
    ],
)
def test_non_superuser_staff_open_the_admin_change_lists(client, national_staff, model):
    app_label, model_name = model.split(".")
    response = client.get(reverse(f"admin:{app_label}_{model_name}_changelist"))
    assert response.status_code == 200
    assert not national_staff.is_superuser


@pytest.mark.django_db
def test_non_superuser_staff_can_change_a_councillor_in_the_admin(client, national_staff):
    councillor = CouncillorFactory()
    response = client.get(reverse("admin:members_councillor_change", args=[councillor.pk]))
    assert response.status_code == 200
    assert 'name="_save"' in response.text
    history = client.get(reverse("admin:members_councillor_history", args=[councillor.pk]))
    assert history.status_code == 200


@pytest.mark.django_db
def test_staff_do_not_see_equality_answers_in_the_admin(client, national_staff):
    record = _equality_record()
    index = client.get(reverse("admin:index")).text
    assert reverse("admin:members_equalitymonitoring_changelist") not in index
    changelist = reverse("admin:members_equalitymonitoring_changelist")
    assert client.get(changelist).status_code == 403
    change = reverse("admin:members_equalitymonitoring_change", args=[record.pk])
    assert client.get(change).status_code == 403


@pytest.mark.django_db
def test_the_default_view_permission_does_not_show_equality_answers(client, national_staff):
    record = _equality_record()
    national_staff.user_permissions.add(Permission.objects.get(codename="view_equalitymonitoring"))
    client.force_login(User.objects.get(pk=national_staff.pk))
    change = reverse("admin:members_equalitymonitoring_change", args=[record.pk])
    assert client.get(change).status_code == 403


@pytest.mark.django_db
def test_staff_with_the_equality_permission_read_but_cannot_change_answers(client, national_staff):
    record = _equality_record()
    national_staff.user_permissions.add(Permission.objects.get(codename="view_equality_monitoring"))
    client.force_login(User.objects.get(pk=national_staff.pk))
    changelist = reverse("admin:members_equalitymonitoring_changelist")
    assert client.get(changelist).status_code == 200
    change = reverse("admin:members_equalitymonitoring_change", args=[record.pk])
    response = client.get(change)
    assert response.status_code == 200
    assert "55_64" in response.text and 'name="_save"' not in response.text
    response = client.post(change, {"answers": "{}"})
    assert response.status_code == 403
    delete = reverse("admin:members_equalitymonitoring_delete", args=[record.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    record.refresh_from_db()
    assert record.answers == {"age_band": "55_64"}


@pytest.mark.django_db
def test_removing_the_staff_role_takes_the_admin_permissions_away(client, national_staff):
    staff_remove(user=national_staff)
    person = User.objects.get(pk=national_staff.pk)
    assert not person.is_staff and not person.groups.exists()
    assert not person.has_perm("members.view_councillor")


def _equality_record():
    return EqualityMonitoring.objects.create(
        user=CouncillorFactory().user,
        consented_at="2026-01-05T10:00Z",
        answers={"age_band": "55_64"},
    )


@pytest.mark.django_db
def test_migrate_gives_staff_appointed_earlier_their_admin_permissions():
    earlier = StaffFactory()
    StaffRole.objects.get_or_create(user=earlier)
    earlier.groups.clear()
    assert not User.objects.get(pk=earlier.pk).has_perm("regions.change_council")

    call_command("migrate", verbosity=0)

    earlier = User.objects.get(pk=earlier.pk)
    assert earlier.has_perm("regions.change_council")
    assert earlier.has_perm("campaigns.change_mailing")
    assert not earlier.has_perm("members.view_equalitymonitoring")


# Powers: who may make whom staff or superuser in the admin.


def _user_form(person, **changes):
    """The admin change form of a person as posted, with these changes."""
    data = {
        "email": person.email,
        "full_name": person.full_name,
        "preferred_name": person.preferred_name,
        "is_active": "on",
    }
    data.update(changes)
    return data


def _powers_posted():
    equality = Permission.objects.get(codename="view_equality_monitoring")
    stranger_group = Group.objects.create(name="Anything goes")
    return {
        "is_staff": "on",
        "is_superuser": "on",
        "groups": [str(stranger_group.pk)],
        "user_permissions": [str(equality.pk)],
    }


@pytest.mark.django_db
def test_non_superuser_staff_cannot_make_themselves_superuser_in_the_admin(client, national_staff):
    # Staff change their own account on their account pages; in the admin, only a superuser
    # changes a staff member's account, their own included.
    url = reverse("admin:members_user_change", args=[national_staff.pk])
    response = client.post(
        url, _user_form(national_staff, full_name="New Name", **_powers_posted())
    )
    assert response.status_code == 403
    person = User.objects.get(pk=national_staff.pk)
    assert person.full_name != "New Name"
    assert not person.is_superuser
    assert list(person.groups.values_list("name", flat=True)) == [NATIONAL_STAFF_GROUP]
    assert not person.user_permissions.exists()
    assert not person.has_perm("members.view_equality_monitoring")


@pytest.mark.django_db
def test_non_superuser_staff_cannot_give_anyone_admin_access_or_permissions(client, national_staff):
    other = UserFactory()
    url = reverse("admin:members_user_change", args=[other.pk])
    form = client.get(url).text
    assert 'name="is_superuser"' not in form and 'name="groups"' not in form
    assert 'name="user_permissions"' not in form and 'name="is_staff"' not in form
    response = client.post(url, _user_form(other, **_powers_posted()))
    assert response.status_code == 302
    other = User.objects.get(pk=other.pk)
    assert not (other.is_staff or other.is_superuser)
    assert not other.groups.exists() and not other.user_permissions.exists()


@pytest.mark.django_db
def test_non_superuser_staff_cannot_change_a_superuser_account(client, national_staff):
    boss = StaffFactory(is_superuser=True)
    change = reverse("admin:members_user_change", args=[boss.pk])
    response = client.post(change, _user_form(boss, email="mine@example.org"))
    assert response.status_code == 403
    # Django's user admin names its password page after auth.User, whatever the model.
    password = reverse("admin:auth_user_password_change", args=[boss.pk])
    assert client.post(password, {"password1": "x" * 20, "password2": "x" * 20}).status_code == 403
    delete = reverse("admin:members_user_delete", args=[boss.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    boss = User.objects.get(pk=boss.pk)
    assert boss.email != "mine@example.org" and boss.check_password("correct-horse-battery-42")


@pytest.mark.django_db
def test_non_superuser_staff_cannot_revert_their_account_to_a_superuser_version(
    client, national_staff
):
    national_staff.is_superuser = True
    national_staff.save()
    superuser_version = national_staff.history.latest().history_id
    national_staff.is_superuser = False
    national_staff.save()
    url = reverse("admin:members_user_simple_history", args=[national_staff.pk, superuser_version])
    assert client.get(url).status_code == 200
    response = client.post(url, _user_form(national_staff))
    assert response.status_code == 403
    assert not User.objects.get(pk=national_staff.pk).is_superuser


@pytest.mark.django_db
def test_superuser_can_grant_the_equality_permission_in_the_admin(client, national_staff):
    client.force_login(StaffFactory(is_superuser=True))
    equality = Permission.objects.get(codename="view_equality_monitoring")
    staff_group = Group.objects.get(name=NATIONAL_STAFF_GROUP)
    url = reverse("admin:members_user_change", args=[national_staff.pk])
    data = _user_form(
        national_staff,
        is_staff="on",
        groups=[str(staff_group.pk)],
        user_permissions=[str(equality.pk)],
    )
    assert client.post(url, data).status_code == 302
    person = User.objects.get(pk=national_staff.pk)
    assert person.has_perm("members.view_equality_monitoring") and not person.is_superuser


# Roles added and removed in the admin do what the portal's own pages do.


@pytest.mark.django_db
def test_appointing_staff_in_the_admin_gives_admin_access(client, national_staff):
    person = TwoFactorUserFactory()
    response = client.post(
        reverse("admin:members_staffrole_add"),
        {"user": person.pk, "since": "2026-01-05", "job_title": "Events officer"},
    )
    assert response.status_code == 302
    person = User.objects.get(pk=person.pk)
    assert person.is_staff and person.groups.filter(name=NATIONAL_STAFF_GROUP).exists()
    assert person.has_perm("regions.change_council")
    role = StaffRole.objects.get(user=person)
    assert (role.job_title, role.since.isoformat()) == ("Events officer", "2026-01-05")
    client.force_login(person)
    assert client.get(reverse("admin:regions_council_changelist")).status_code == 200


@pytest.mark.django_db
def test_removing_a_staff_role_in_the_admin_takes_admin_access_away(client, superuser):
    person = TwoFactorUserFactory()
    staff_appoint(user=person)
    role = StaffRole.objects.get(user=person)
    delete = reverse("admin:members_staffrole_delete", args=[role.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 302
    person = User.objects.get(pk=person.pk)
    assert not StaffRole.objects.filter(user=person).exists()
    assert not person.is_staff and not person.groups.exists()
    assert not person.has_perm("members.view_councillor")
    client.force_login(person)
    assert client.get(reverse("admin:index")).status_code == 302  # to the admin login


@pytest.mark.django_db
def test_removing_staff_roles_in_bulk_in_the_admin_takes_admin_access_away(client, superuser):
    people = [TwoFactorUserFactory() for _ in range(2)]
    for person in people:
        staff_appoint(user=person)
    kept = TwoFactorUserFactory()
    staff_appoint(user=kept)
    roles = StaffRole.objects.filter(user__in=people)
    response = client.post(
        reverse("admin:members_staffrole_changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [str(pk) for pk in roles.values_list("pk", flat=True)],
            "post": "yes",
        },
    )
    assert response.status_code == 302
    for person in User.objects.filter(pk__in=[p.pk for p in people]):
        assert not person.is_staff and not person.groups.exists()
    kept = User.objects.get(pk=kept.pk)
    assert kept.is_staff and kept.has_perm("regions.change_council")


@pytest.mark.django_db
def test_a_staff_role_cannot_be_moved_to_another_person_in_the_admin(client, superuser):
    person, other = TwoFactorUserFactory(), TwoFactorUserFactory()
    staff_appoint(user=person)
    role = StaffRole.objects.get(user=person)
    response = client.post(
        reverse("admin:members_staffrole_change", args=[role.pk]),
        {"user": other.pk, "since": "2026-01-05", "job_title": "Organiser"},
    )
    assert response.status_code == 302
    role.refresh_from_db()
    assert (role.user, role.job_title) == (person, "Organiser")
    assert not User.objects.get(pk=other.pk).is_staff


@pytest.mark.django_db
def test_representatives_added_and_deleted_in_the_admin_gain_and_lose_their_region(
    client, national_staff
):
    # A representative's access comes from their current appointment alone, so the admin's
    # plain add and delete are enough.
    person, region = TwoFactorUserFactory(), RegionFactory()
    response = client.post(
        reverse("admin:regions_regionalrepresentative_add"),
        {"user": person.pk, "region": region.pk, "start_date": "2026-01-05", "end_date": ""},
    )
    assert response.status_code == 302
    assert User.objects.get(pk=person.pk).represented_region_ids == {region.pk}
    appointment = RegionalRepresentative.objects.get(user=person)
    delete = reverse("admin:regions_regionalrepresentative_delete", args=[appointment.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 302
    assert not User.objects.get(pk=person.pk).is_representative


@pytest.mark.django_db
def test_non_superuser_staff_add_an_account_without_powers(client, national_staff):
    add = reverse("admin:members_user_add")
    assert client.get(add).status_code == 200
    password = "a-long-enough-passphrase-77"
    data = {"email": "new@example.org", "password1": password, "password2": password}
    response = client.post(add, {**data, **_powers_posted(), "usable_password": "true"})
    assert response.status_code == 302
    person = User.objects.get(email="new@example.org")
    assert not (person.is_staff or person.is_superuser or person.groups.exists())
