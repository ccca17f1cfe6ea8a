from django.contrib import admin
from django.urls import include, path

from . import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("regions/", include("regions.urls")),
    path("campaigns/", include("campaigns.urls")),
    path("", include("members.urls")),
]
