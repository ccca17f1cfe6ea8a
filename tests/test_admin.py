"""Staff can reach every model of the portal in the Django admin."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse
from factories import StaffFactory

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
