"""Celery tasks of the source side."""

from celery import shared_task
from django.conf import settings

from syncs.delivery import outbox_drain
from syncs.outbox import outbox_delivered_purge, outbox_queue_name, outbox_targets_due
from syncs.workqueue import work_run


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
        outbox_deliver.apply_async((platform_id,), countdown=max(0.05, min(retry_in)))


@shared_task(acks_late=True, soft_time_limit=300, time_limit=330)
def outbox_relay() -> int:
    """Ask again for delivery to every target with due pending rows.

    Catches requests that never reached the broker (down at commit time) and
    drains cut short by a dead worker. Publishes past the 'requested' flag:
    a duplicate message finds the lease taken and costs nothing.
    """
    targets = outbox_targets_due()
    for platform_id in targets:
        outbox_deliver.delay(platform_id)
    return len(targets)


@shared_task(soft_time_limit=600, time_limit=660)
def outbox_purge() -> int:
    """Delete delivered outbox rows older than SYNC_PURGE_AFTER_DAYS."""
    return outbox_delivered_purge(days=settings.SYNC_PURGE_AFTER_DAYS)
