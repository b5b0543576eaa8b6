"""Celery tasks of the platforms app."""

import logging

from celery import shared_task

from platforms.services import PlatformPushError, platforms_push_all

logger = logging.getLogger(__name__)


# No retries: the next run pushes the complete list again, which is the retry.
@shared_task(soft_time_limit=600, time_limit=660)
def platforms_push() -> dict[str, str]:
    """Push the platform list to every platform (SyncPlatformJob, on the master).

    Return each target's domain with "ok" or why it failed.
    """
    try:
        outcomes = platforms_push_all()
    except PlatformPushError as exc:
        # Beat may run with SYNC_PLATFORM_JOB_ENABLED on every platform.
        logger.info("Platform job skipped: %s", exc)
        return {}
    return {o.domain: "ok" if o.ok else o.detail for o in outcomes}
