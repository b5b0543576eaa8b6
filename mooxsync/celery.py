"""The Celery app: configured from Django settings, tasks found in each app."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mooxsync.settings")

app = Celery("mooxsync")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
