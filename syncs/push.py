"""The master tells platforms of their syncs: in its push, soon after a change.

Each body of the master's push of the platform list (platforms.roster) carries
the target's syncs, listed as the master's syncs API lists them to the sync
API job (syncs.pull), and the target refreshes its syncs from them as that
job does. A sync created, changed or deleted on the master asks for a push
once its transaction commits; the requests of a burst (an admin's bulk
action) coalesce into one push through a work queue. The sync API job stays
the fallback for a push that did not arrive.
"""

import logging
from functools import partial

from django.db.models import Q

from platforms.models import Platform
from platforms.services import PlatformPushError, PushOutcome, platforms_push_all
from syncs import enqueue
from syncs.api.serializers import SyncSerializer
from syncs.selectors import sync_list
from syncs.workqueue import work_request, work_run

logger = logging.getLogger(__name__)

PUSH_QUEUE = "syncs-push"
# Seconds between the first change of a burst and its push: the changes
# committed meanwhile go in the same push.
PUSH_DELAY = 1.0


def syncs_push_part(target: Platform) -> list[dict]:
    """Return the syncs of ``target`` (source or target) as the syncs API lists them."""
    syncs = sync_list().filter(Q(source_platform=target) | Q(target_platform=target))
    return SyncSerializer(syncs, many=True).data


def syncs_push_request() -> None:
    """Ask for a push of the platform list and the syncs, unless one is pending.

    Call it after the change commits, on the master only.
    """
    work_request(PUSH_QUEUE, partial(enqueue.syncs_push_in, PUSH_DELAY))


def syncs_push_run() -> list[PushOutcome]:
    """Push the platform list and the syncs while pushes are requested."""
    outcomes: list[PushOutcome] = []
    try:
        work_run(PUSH_QUEUE, lambda: outcomes.extend(platforms_push_all()))
    except PlatformPushError as exc:
        logger.info("Sync push skipped: %s", exc)
    return outcomes
