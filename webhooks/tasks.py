"""Celery tasks of the target side."""

import logging
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from platforms.conf import sync_settings
from syncs.workqueue import work_lease_renew, work_run
from webhooks import enqueue
from webhooks.apply import inbox_apply_batch
from webhooks.files.uploads import uploads_stale_purge
from webhooks.inbox import INBOX_QUEUE
from webhooks.models import InboxEvent

logger = logging.getLogger(__name__)


# Retried on any error: the worker cleared the queue's request flag before it
# failed, so without a retry the pending events would wait for the next
# delivery. Bounded, so an outage cannot grow an ever longer list of retries.
@shared_task(
    acks_late=True,
    soft_time_limit=600,
    time_limit=660,
    autoretry_for=(Exception,),
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=8,
)
def inbox_apply() -> None:
    """Apply pending inbox events in order, batch by batch (SyncJob)."""

    def drain() -> None:
        while inbox_apply_batch(size=sync_settings.SYNC_BATCH_SIZE):
            work_lease_renew(INBOX_QUEUE)

    work_run(INBOX_QUEUE, drain)


@shared_task(soft_time_limit=300, time_limit=330)
def inbox_relay() -> bool:
    """Ask again for SyncJob when events wait (their request may have been lost)."""
    waiting = InboxEvent.objects.filter(status=InboxEvent.Status.PENDING).exists()
    if waiting:
        enqueue.inbox_apply()
    return waiting


@shared_task(soft_time_limit=600, time_limit=660)
def inbox_purge() -> int:
    """Delete applied or skipped inbox rows older than SYNC_PURGE_AFTER_DAYS.

    Also deletes the partial file uploads that no chunk reached for
    FILE_SYNC_PARTIAL_MAX_AGE seconds. Return how many inbox rows went.
    """
    cutoff = timezone.now() - timedelta(days=sync_settings.SYNC_PURGE_AFTER_DAYS)
    deleted, _ = InboxEvent.objects.filter(
        status__in=[InboxEvent.Status.APPLIED, InboxEvent.Status.SKIPPED],
        applied_at__lt=cutoff,
    ).delete()
    uploads = uploads_stale_purge(max_age=sync_settings.FILE_SYNC_PARTIAL_MAX_AGE)
    if uploads:
        logger.info("Deleted %d unfinished file upload(s).", uploads)
    return deleted
