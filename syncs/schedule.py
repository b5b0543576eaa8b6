"""The periodic jobs, as a Celery beat schedule a site merges into its own.

In the site's settings (with Celery configured from the ``CELERY`` namespace)::

    from syncs.schedule import SYNC_BEAT_SCHEDULE

    CELERY_BEAT_SCHEDULE = {**SYNC_BEAT_SCHEDULE}

Each entry reads its switch and its frequency (``SYNC_*_ENABLED``,
``SYNC_*_FREQUENCY``) when beat runs, not when settings are imported: a job
switched off is never due.
"""

from datetime import timedelta

from celery.schedules import schedstate, schedule

from platforms.conf import sync_settings


class SettingSchedule(schedule):
    """Every ``frequency`` setting's seconds, while the ``switch`` setting is on."""

    def __init__(self, switch: str, frequency: str, **kwargs) -> None:
        self.switch, self.frequency = switch, frequency
        super().__init__(**kwargs)

    @property
    def run_every(self) -> timedelta:
        return timedelta(seconds=getattr(sync_settings, self.frequency))

    @run_every.setter
    def run_every(self, value) -> None:
        """Ignore: schedule.__init__ sets it, the setting decides it."""

    def is_due(self, last_run_at) -> schedstate:
        if not getattr(sync_settings, self.switch):
            return schedstate(is_due=False, next=self.seconds)
        return super().is_due(last_run_at)

    def __reduce__(self):
        return self.__class__, (self.switch, self.frequency)

    def __repr__(self) -> str:
        return f"<SettingSchedule: every {self.frequency} while {self.switch}>"


# (switch, frequency, entry name, task names)
_JOBS = [
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
        [
            "syncs.tasks.outbox_relay",
            "syncs.tasks.fills_resume",
            "webhooks.tasks.inbox_relay",
        ],
    ),
    (
        "SYNC_PURGE_ENABLED",
        "SYNC_PURGE_FREQUENCY",
        "purge",
        ["syncs.tasks.outbox_purge", "webhooks.tasks.inbox_purge"],
    ),
]

SYNC_BEAT_SCHEDULE = {
    f"mooxsync-{name}:{task}": {
        "task": task,
        "schedule": SettingSchedule(switch, frequency),
    }
    for switch, frequency, name, tasks in _JOBS
    for task in tasks
}
