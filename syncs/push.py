"""The master tells platforms of their syncs: in its push, soon after a change.

Each body of the master's push of the platform list (platforms.push) carries
the target's syncs, listed as the master's syncs API lists them to the sync
API job (syncs.pull), and the target refreshes its syncs from them as that
job does (``push_apply`` receives the whole push). A sync created, changed or
deleted on the master asks for a push once its transaction commits; the
requests of a burst (an admin's bulk action) coalesce into one push through a
work queue. The sync API job stays the fallback for a push that did not arrive.
"""

import logging
from dataclasses import dataclass
from functools import partial

from django.db import transaction
from django.db.models import Q

from platforms.models import Platform
from platforms.push import PushRowsReport, push_rows_apply
from platforms.selectors import platform_current, platform_master
from platforms.services import PlatformPushError, PushOutcome, platforms_push_all
from syncs import enqueue
from syncs.api.serializers import SyncSerializer
from syncs.pull import PullReport, syncs_refresh
from syncs.registry import registry_invalidate
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


@dataclass(frozen=True)
class PushReport:
    """What the master's push changed here: platforms, and syncs if it listed any."""

    platforms: PushRowsReport
    syncs: PullReport | None

    def as_dict(self) -> dict:
        found: dict = self.platforms.as_dict()
        if self.syncs is not None:
            found["syncs"] = self.syncs.changes()
        return found


def _syncs_apply(syncs: list[dict]) -> PullReport | None:
    own, master = platform_current(), platform_master()
    if own is None or master is None:
        return None  # no row of its own: nothing to refresh the syncs of
    return syncs_refresh(own=own, remote=syncs, master=master.domain)


def push_apply(*, rows: list[dict], syncs: list[dict] | None = None) -> PushReport:
    """Make the platform list, and this platform's syncs if listed, the master's.

    The receiving side of its push; one transaction. Without ``syncs`` (a
    master that pushes none) the syncs are left alone.
    """
    with transaction.atomic():
        platforms = push_rows_apply(rows=rows)
        refreshed = None if syncs is None else _syncs_apply(syncs)
    # A platform's domain decides which syncs start here: reload them now.
    registry_invalidate()
    return PushReport(platforms, refreshed)
