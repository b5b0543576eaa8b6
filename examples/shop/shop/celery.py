"""The shop's Celery app: configured from Django settings, tasks found in apps."""

import os

from celery import Celery
from kombu.transport import TRANSPORT_ALIASES

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")
# The embedded broker (filesystem://, no server) with atomic writes.
TRANSPORT_ALIASES["filesystem"] = "syncs.broker:Transport"

app = Celery("shop")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
