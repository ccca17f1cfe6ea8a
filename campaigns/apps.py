from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "campaigns"

    def ready(self):
        # Bounce and complaint reports from the email provider (django-anymail signals).
        from . import receivers, webhooks  # noqa: F401
