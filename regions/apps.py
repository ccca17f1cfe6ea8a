from django.apps import AppConfig


class RegionsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "regions"

    def ready(self):
        from alc_portal import fragments

        # The dashboards' council tables are cached until a write to the data they show.
        fragments.watch_writes()
