"""Staff can reach every model of the portal in the Django admin."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.urls import reverse
from factories import CouncillorFactory, StaffFactory, TwoFactorUserFactory

from members.models import EqualityMonitoring, StaffRole, User
from members.services import staff_appoint, staff_remove

PORTAL_APPS = ["members", "regions", "campaigns"]
MODELS = [
    model
    for app in PORTAL_APPS
    for model in apps.get_app_config(app).get_models()
    if not model.__name__.startswith("Historical")
]


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
    assert client.get(add).status_code in (200, 403)  # 403 where adding is disabled on purpose


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
