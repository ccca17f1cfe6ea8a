import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alc_portal.settings")

app = Celery("alc_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Workers write heartbeats and note periodic jobs and failures, for /healthz and /status/.
from . import heartbeats  # noqa: E402,F401
