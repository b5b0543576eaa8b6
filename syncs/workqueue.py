"""Coalesced work requests and single-worker leases over a WorkQueue row.

The protocol, which loses no request:
- a writer whose rows are visible to the next drain (its transaction holds
  the flag row shared, see ``work_flags_sql``) needs nothing more when the
  flag is set; otherwise, after its commit, ``work_request`` sets
  ``requested`` unless it is set, and publishes a message only when it set it;
- a worker takes the lease, clears ``requested``, then drains; a commit seen
  after the clear sets the flag again and publishes again;
- after releasing the lease the worker drains again if the flag was set
  meanwhile, since that message may have found the lease taken.
"""

from collections.abc import Callable
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from platforms.conf import sync_settings
from syncs.models import WorkQueue


def work_flags_sql(connection, count: int, columns: str = "name, requested") -> str:
    """Return SQL reading the flags of ``count`` queues, as rows of ``columns``.

    A writer reads the flags in the transaction (or statement) that writes its
    rows. On PostgreSQL and MySQL/MariaDB the flag rows are locked shared
    (MariaDB knows only the LOCK IN SHARE MODE spelling); on SQLite the writer
    holds the single write lock already. Either way a worker cannot clear a
    flag until the writer has committed, so the drain that follows the clear
    sees the writer's rows, and a set flag means nothing more is needed.
    """
    table = connection.ops.quote_name(WorkQueue._meta.db_table)
    marks = ", ".join(["%s"] * count)
    lock = {"postgresql": " FOR SHARE", "mysql": " LOCK IN SHARE MODE"}.get(
        connection.vendor, ""
    )
    return f"SELECT {columns} FROM {table} WHERE name IN ({marks}){lock}"


def work_request(name: str, publish: Callable[[], None]) -> None:
    """Ask for the queue to be drained; publish only if nobody asked yet."""
    # A read first: during a burst the flag is already set and this is all.
    requested = WorkQueue.objects.filter(name=name).values_list("requested", flat=True)
    state = list(requested)
    if state and state[0]:
        return
    if state:
        flipped = WorkQueue.objects.filter(name=name, requested=False).update(
            requested=True
        )
    else:
        _, flipped = WorkQueue.objects.get_or_create(
            name=name, defaults={"requested": True}
        )
    if not flipped:
        return
    try:
        publish()
    except Exception:
        # A flag left set with no message behind it would silence every later
        # request: clear it so the next commit publishes again.
        WorkQueue.objects.filter(name=name).update(requested=False)
        raise


def work_lease_take(name: str, seconds: int | None = None) -> bool:
    """Take the queue's lease; False if another worker holds it.

    A worker that dies holding it holds up the queue for SYNC_LEASE_SECONDS
    at most; a live one renews it after every batch.
    """
    now = timezone.now()
    seconds = seconds or sync_settings.SYNC_LEASE_SECONDS
    WorkQueue.objects.get_or_create(name=name)
    return bool(
        WorkQueue.objects.filter(
            Q(lease_until__isnull=True) | Q(lease_until__lt=now), name=name
        ).update(lease_until=now + timedelta(seconds=seconds))
    )


def work_lease_renew(name: str, seconds: int | None = None) -> None:
    """Extend the lease this worker holds."""
    seconds = seconds or sync_settings.SYNC_LEASE_SECONDS
    WorkQueue.objects.filter(name=name).update(
        lease_until=timezone.now() + timedelta(seconds=seconds)
    )


def work_run(name: str, drain: Callable[[], None]) -> None:
    """Drain the queue under its lease until no request is left."""
    while work_lease_take(name):
        try:
            WorkQueue.objects.filter(name=name).update(requested=False)
            drain()
        finally:
            WorkQueue.objects.filter(name=name).update(lease_until=None)
        if not WorkQueue.objects.filter(name=name, requested=True).exists():
            return
