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

A lease is owned: the end a worker wrote (``lease_until``) is its token, and
it renews, clears the flag and releases only where that end is still written.
A worker takes an expired lease with an end past the expired one, so a worker
paused past its lease finds its token gone (``LeaseLost``) and stops, instead
of renewing or clearing the lease of the worker that took over.
"""

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q
from django.utils import timezone

from platforms.conf import sync_settings
from syncs.models import WorkQueue


def work_flags_sql(connection, count: int) -> str:
    """Return SQL reading the flags of ``count`` queues, as (name, requested) rows.

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
    return f"SELECT name, requested FROM {table} WHERE name IN ({marks}){lock}"


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


@dataclass(frozen=True)
class Lease:
    """A queue's lease as its holder took it; ``until`` is the owner token."""

    name: str
    until: datetime


class LeaseLost(Exception):
    """Another worker took the queue's lease over; this one must stop draining."""


# The leases work_run holds in this thread (or task), by queue name, for the
# drains that renew by the queue's name deep inside it. Set and reset by
# work_run alone, so nothing outlives a run.
_held: ContextVar[dict[str, Lease] | None] = ContextVar("work_leases", default=None)


def _hold(lease: Lease):
    """Hold ``lease`` in this context; return the token that restores it."""
    return _held.set({**(_held.get() or {}), lease.name: lease})


def _owned(lease: Lease):
    return WorkQueue.objects.filter(name=lease.name, lease_until=lease.until)


def work_lease_take(name: str, seconds: int | None = None) -> bool:
    """Take the queue's lease; False if another worker holds it.

    A worker that dies holding it holds up the queue for SYNC_LEASE_SECONDS
    at most; a live one renews it after every batch.
    """
    return _lease_take(name, seconds) is not None


def _lease_take(name: str, seconds: int | None) -> Lease | None:
    now = timezone.now()
    until = now + timedelta(seconds=seconds or sync_settings.SYNC_LEASE_SECONDS)
    WorkQueue.objects.get_or_create(name=name)
    taken = WorkQueue.objects.filter(
        Q(lease_until__isnull=True) | Q(lease_until__lt=now), name=name
    ).update(lease_until=until)
    return Lease(name, until) if taken else None


def work_lease_renew(name: str, seconds: int | None = None) -> None:
    """Extend the lease work_run holds; raise LeaseLost if another took it over.

    A drain run outside work_run (a test, a shell) holds no lease to renew.
    """
    lease = (_held.get() or {}).get(name)
    if lease is None:
        return
    until = timezone.now() + timedelta(
        seconds=seconds or sync_settings.SYNC_LEASE_SECONDS
    )
    if not _owned(lease).update(lease_until=until):
        raise LeaseLost(f"Another worker took the lease of {name!r} over.")
    _hold(Lease(name, until))


def work_run(name: str, drain: Callable[[], None]) -> None:
    """Drain the queue under its lease until no request is left.

    Stops quietly when another worker took the lease over (this one outlived
    it): that worker drains the queue now.
    """
    while lease := _lease_take(name, None):
        token = _hold(lease)
        try:
            if not _owned(lease).update(requested=False):
                return
            drain()
        except LeaseLost:
            return
        finally:
            # Released only where this worker's end is still written.
            _owned(_held.get()[name]).update(lease_until=None)
            _held.reset(token)
        if not WorkQueue.objects.filter(name=name, requested=True).exists():
            return
