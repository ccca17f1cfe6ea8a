from django.apps import AppConfig


class EventsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "events"

    def ready(self):
        # What events adds to members' pages (home, profile, a person's data) and erases with
        # them, through the signals members defines: members never imports events.
        from . import receivers  # noqa: F401
