"""Which syncs this platform backs up."""

from django.db.models import QuerySet

from platforms.models import Platform
from platforms.selectors import platform_current
from syncs.backup.errors import BackupError
from syncs.models import Sync


def syncs_backed_up_here() -> QuerySet[Sync]:
    """Return the active syncs whose source is this platform."""
    current = platform_current()
    if current is None:
        return Sync.objects.none()
    return Sync.objects.filter(status=True, source_platform=current).select_related(
        "source_platform", "target_platform"
    )


def _platform_current_require() -> Platform:
    current = platform_current()
    if current is None:
        raise BackupError(
            "This platform has no Platform row (is SYNC_PLATFORM_DOMAIN set and "
            "mooxsync_install run?)."
        )
    return current


def syncs_for_backup() -> list[Sync]:
    """Return every sync this platform backs up; refuse if it is not installed."""
    _platform_current_require()
    return list(syncs_backed_up_here())


def sync_for_backup(sync_id: int) -> Sync:
    """Return the sync ``sync_id`` if this platform may back it up; else refuse."""
    current = _platform_current_require()
    sync = (
        Sync.objects.select_related("source_platform", "target_platform")
        .filter(pk=sync_id)
        .first()
    )
    if sync is None:
        raise BackupError(f"There is no sync with id {sync_id}.")
    if sync.source_platform_id != current.pk:
        raise BackupError(
            f"Sync {sync_id} ({sync}) sends from {sync.source_platform.domain}, "
            f"not from this platform ({current.domain}): back it up there."
        )
    if not sync.status:
        raise BackupError(f"Sync {sync_id} ({sync}) is inactive.")
    return sync
