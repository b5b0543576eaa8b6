"""Celery tasks of the source side."""

from celery import shared_task

from syncs.delivery import outbox_drain
from syncs.outbox import outbox_queue_name
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
