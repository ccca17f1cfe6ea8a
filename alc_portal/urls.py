from django.contrib import admin
from django.urls import include, path

from campaigns.views import sending as campaigns_sending
from campaigns.webhooks import webhook_urls

from . import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("regions/", include("regions.urls")),
    path("campaigns/", include("campaigns.urls")),
    path("unsubscribe/<str:token>/", campaigns_sending.unsubscribe, name="unsubscribe"),
    path("webhooks/anymail/", include(webhook_urls())),
    path("", include("members.urls")),
]
