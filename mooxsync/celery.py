"""The Celery app: configured from Django settings, tasks found in each app.

The beat schedule is Moox Sync's (CELERY_BEAT_SCHEDULE in mooxsync.settings,
as a site sets it): plain Celery beat, no database scheduler.
"""

import os

from celery import Celery
from kombu.transport import TRANSPORT_ALIASES

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mooxsync.settings")
# filesystem:// writes each message atomically (see syncs.broker).
TRANSPORT_ALIASES["filesystem"] = "syncs.broker:Transport"

app = Celery("mooxsync")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
