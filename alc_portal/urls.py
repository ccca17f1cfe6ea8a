from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from campaigns.views import sending as campaigns_sending
from campaigns.webhooks import webhook_urls

from . import health, status

# The admin has no sign-in of its own: its login page sends people to allauth's, so that two-factor
# authentication and the rate limits on failed attempts apply there as everywhere.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("status/", status.status_page, name="status"),
    path("status.json", status.status_json, name="status_json"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("regions/", include("regions.urls")),
    path("campaigns/", include("campaigns.urls")),
    path("events/", include("events.urls")),
    path("unsubscribe/<str:token>/", campaigns_sending.unsubscribe, name="unsubscribe"),
    path("webhooks/anymail/", include(webhook_urls())),
    path("search/", include("search.urls")),
    path("", include("members.urls")),
]
