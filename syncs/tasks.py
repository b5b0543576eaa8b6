"""Celery tasks of the source side."""

import logging

from celery import shared_task

from platforms.conf import sync_settings
from platforms.transport import retry_delay
from syncs import enqueue, fill, pull, push
from syncs.backup.errors import BackupError
from syncs.backup.schedule import backup_claim, backups_due
from syncs.backup.selectors import syncs_backed_up_here
from syncs.backup.services import sync_backup
from syncs.delivery import outbox_drain
from syncs.files.transfer import TransferRetry, record_files_transfer
from syncs.outbox import outbox_delivered_purge, outbox_queue_name, outbox_targets_due
from syncs.outbox_intents import outbox_intents_recover
from syncs.workqueue import work_run

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, soft_time_limit=600, time_limit=660)
def outbox_deliver(platform_id: int) -> None:
    """Deliver the pending outbox rows of one target platform (PrepareSyncJob)."""
    queue = outbox_queue_name(platform_id)
    retry_in: list[float] = []

    def drain() -> None:
        wait = outbox_drain(platform_id=platform_id, queue=queue)
        if wait is not None:
            retry_in.append(wait)

    work_run(queue, drain)
    if retry_in:
        enqueue.outbox_deliver_in(platform_id, max(0.05, min(retry_in)))


@shared_task(acks_late=True, soft_time_limit=300, time_limit=330)
def outbox_relay() -> int:
    """Ask again for delivery to every target with due pending rows.

    Catches requests that never reached the broker (down at commit time),
    drains cut short by a dead worker, and, first, the changes of saving
    processes that died before their post_save (outbox_intents_recover).
    Publishes past the 'requested' flag: a duplicate message finds the lease
    taken and costs nothing.
    """
    outbox_intents_recover()
    targets = outbox_targets_due()
    for platform_id in targets:
        enqueue.outbox_deliver(platform_id)
    return len(targets)


@shared_task(soft_time_limit=600, time_limit=660)
def outbox_purge() -> int:
    """Delete delivered outbox rows older than SYNC_PURGE_AFTER_DAYS."""
    return outbox_delivered_purge(days=sync_settings.SYNC_PURGE_AFTER_DAYS)


@shared_task(bind=True, acks_late=True, soft_time_limit=600, time_limit=660)
def file_transfer(self, sync_id: int, object_pk: str) -> dict[str, str]:
    """Send the files of one delivered record to its sync's target (FileSyncJob).

    Retried with backoff while the target is down or has not applied the
    record yet; each try resumes from the bytes the target already holds.
    """
    try:
        return record_files_transfer(sync_id=sync_id, object_pk=object_pk)
    except TransferRetry as exc:
        raise self.retry(
            exc=exc,
            countdown=retry_delay(self.request.retries + 1),
            max_retries=sync_settings.SYNC_MAX_ATTEMPTS,
        ) from exc


# No retries: the next run pulls the complete list again, which is the retry.
@shared_task(soft_time_limit=300, time_limit=330)
def syncs_pull() -> dict[str, int]:
    """Pull this platform's syncs from the master (SyncApiJob).

    Return how many syncs were created, updated, deleted and skipped.
    """
    try:
        report = pull.syncs_pull()
    except pull.PullError as exc:
        logger.warning("Sync API job: %s", exc)
        return {}
    return {
        kind: len(getattr(report, kind))
        for kind in ("created", "updated", "deleted", "skipped")
    }


# No retries: a platform the push missed pulls its syncs (SyncApiJob) or gets
# them with the next push.
@shared_task(acks_late=True, soft_time_limit=600, time_limit=660)
def syncs_push() -> dict[str, str]:
    """Push the platform list and the syncs soon after a sync changed (master).

    Return each target's domain with "ok" or why it failed.
    """
    outcomes = push.syncs_push_run()
    return {o.domain: "ok" if o.ok else o.detail for o in outcomes}


@shared_task(soft_time_limit=300, time_limit=330)
def backup_run() -> list[int]:
    """Start the backup of each active sync from here whose interval is over.

    Each Sync's ``interval`` counts the minutes from the start of its last
    backup (by this task or the sync_backup command); SYNC_BACKUP_JOB_FREQUENCY
    is how often this task looks.
    """
    due = backups_due(list(syncs_backed_up_here()))
    for sync in due:
        enqueue.backup_sync(sync.pk)
    return [sync.pk for sync in due]


# No retries: a failed backup is tried again when its interval is over.
@shared_task(soft_time_limit=3600, time_limit=3660)
def backup_sync(sync_id: int) -> dict:
    """Back up one sync (SyncBackupJob) unless it is not due or already running."""
    sync = syncs_backed_up_here().filter(pk=sync_id).first()
    if sync is None or not backup_claim(sync):
        return {}
    try:
        report = sync_backup(sync=sync)
    except BackupError as exc:
        logger.warning("Backup of sync %s failed: %s", sync_id, exc)
        return {}
    logger.info("Backup: %s", report.as_text())
    return report.as_dict()


@shared_task(acks_late=True, soft_time_limit=300, time_limit=330)
def fill_step(sync_id: int) -> None:
    """Queue the next pages of a sync's initial fill; come back until it is over."""
    wait = fill.fill_run(sync_id)
    if wait is not None:
        enqueue.fill_step_in(sync_id, wait)


@shared_task(soft_time_limit=300, time_limit=330)
def fills_resume() -> list[int]:
    """Ask again for a step of every running fill (lost with a worker, a broker)."""
    return fill.fills_resume()
