"""When a sync is backed up next: each Sync's ``interval`` minutes apart.

The time lives in the lease of a work queue named after the sync: a backup
takes the lease for ``interval`` minutes, so no other worker backs the same
sync up until they are over, and the beat task finds it due again only then.
No table of its own, and a crashed backup frees its sync when its time is up.
"""

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from syncs.models import Sync, WorkQueue
from syncs.workqueue import work_lease_take


def backup_queue_name(sync_id: int) -> str:
    """Return the work queue name that holds a sync's next backup time."""
    return f"backup:{sync_id}"


def backups_due(syncs: list[Sync]) -> list[Sync]:
    """Return the syncs whose interval since their last backup is over."""
    names = [backup_queue_name(sync.pk) for sync in syncs]
    waiting = set(
        WorkQueue.objects.filter(name__in=names)
        .exclude(Q(lease_until__isnull=True) | Q(lease_until__lt=timezone.now()))
        .values_list("name", flat=True)
    )
    return [sync for sync in syncs if backup_queue_name(sync.pk) not in waiting]


def backup_claim(sync: Sync) -> bool:
    """Take the sync's backup for its interval; False if it is not due yet."""
    return work_lease_take(backup_queue_name(sync.pk), seconds=sync.interval * 60)


def backup_postpone(sync: Sync) -> None:
    """Make the sync's next scheduled backup ``interval`` minutes from now."""
    WorkQueue.objects.update_or_create(
        name=backup_queue_name(sync.pk),
        defaults={"lease_until": timezone.now() + timedelta(minutes=sync.interval)},
    )
