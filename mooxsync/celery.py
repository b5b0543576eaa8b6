"""The Celery app: configured from Django settings, tasks found in each app.

The beat schedule is built from the SYNC_*_ENABLED / SYNC_*_FREQUENCY settings
(plain Celery beat, no database scheduler: the schedule is configuration, kept
in the environment like the rest of it).
"""

import os

from celery import Celery
from kombu.transport import TRANSPORT_ALIASES

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mooxsync.settings")
# filesystem:// writes each message atomically (see mooxsync.broker).
TRANSPORT_ALIASES["filesystem"] = "mooxsync.broker:Transport"

app = Celery("mooxsync")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# (switch setting, frequency setting, entry name, task names)
SCHEDULE = [
    (
        "SYNC_PLATFORM_JOB_ENABLED",
        "SYNC_PLATFORM_JOB_FREQUENCY",
        "sync-platforms",
        ["platforms.tasks.platforms_push"],
    ),
    (
        "SYNC_API_JOB_ENABLED",
        "SYNC_API_JOB_FREQUENCY",
        "sync-api",
        ["syncs.tasks.syncs_pull"],
    ),
    (
        "SYNC_BACKUP_JOB_ENABLED",
        "SYNC_BACKUP_JOB_FREQUENCY",
        "sync-backup",
        ["syncs.tasks.backup_run"],
    ),
    (
        "SYNC_RELAY_ENABLED",
        "SYNC_RELAY_FREQUENCY",
        "relay",
        ["syncs.tasks.outbox_relay", "webhooks.tasks.inbox_relay"],
    ),
    (
        "SYNC_PURGE_ENABLED",
        "SYNC_PURGE_FREQUENCY",
        "purge",
        ["syncs.tasks.outbox_purge", "webhooks.tasks.inbox_purge"],
    ),
]


def beat_schedule(settings) -> dict:
    """Return the beat entries switched on in ``settings``."""
    entries = {}
    for switch, frequency, name, tasks in SCHEDULE:
        if not getattr(settings, switch):
            continue
        for task in tasks:
            entries[f"{name}:{task}"] = {
                "task": task,
                "schedule": float(getattr(settings, frequency)),
            }
    return entries


@app.on_after_configure.connect
def _schedule(sender, **kwargs) -> None:
    from django.conf import settings

    sender.conf.beat_schedule = beat_schedule(settings)
