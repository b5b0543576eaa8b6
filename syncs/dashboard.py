"""Reads behind the admin dashboard: syncs, outbox figures, events per hour."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Count, Max, QuerySet
from django.db.models.functions import TruncHour

from syncs.models import OutboxEvent, Sync


@dataclass(frozen=True)
class SyncFigures:
    """How many syncs run, and the ones that report errors."""

    active: int
    inactive: int
    failing: list[Sync]
    failing_count: int


def window_start(*, now: datetime, hours: int) -> datetime:
    """Return the start of the hour ``hours - 1`` hours before ``now``'s (UTC)."""
    hour = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return hour - timedelta(hours=hours - 1)


def sync_figures(*, failing_limit: int = 5) -> SyncFigures:
    """Count active and inactive syncs; list the active ones with errors."""
    counts = dict(Sync.objects.values_list("status").annotate(n=Count("pk")).order_by())
    failing = Sync.objects.filter(status=True, has_errors=True).select_related(
        "source_platform", "target_platform"
    )
    return SyncFigures(
        active=counts.get(True, 0),
        inactive=counts.get(False, 0),
        failing=list(failing.order_by("-last_sync", "pk")[:failing_limit]),
        failing_count=failing.count(),
    )


def status_counts(queryset: QuerySet, *, field: str, since: datetime) -> dict:
    """Count the rows of ``queryset`` per status whose ``field`` is since ``since``."""
    rows = (
        queryset.filter(**{f"{field}__gte": since})
        .values_list("status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return dict(rows)


def hourly_counts(
    queryset: QuerySet, *, field: str, start: datetime, hours: int
) -> list[int]:
    """Count rows per hour of ``field`` for ``hours`` hours from ``start`` (UTC)."""
    rows = (
        queryset.filter(**{f"{field}__gte": start})
        .annotate(hour=TruncHour(field, tzinfo=UTC))
        .values_list("hour")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts = [0] * hours
    for hour, n in rows:
        slot = int((hour - start).total_seconds() // 3600)
        if 0 <= slot < hours:
            counts[slot] += n
    return counts


def outbox_status_counts(*, since: datetime) -> dict[str, int]:
    """Count outbox rows recorded since ``since`` per status."""
    return status_counts(OutboxEvent.objects, field="created_at", since=since)


def outbox_hourly_counts(*, start: datetime, hours: int) -> list[int]:
    """Count outbox rows recorded per hour from ``start``."""
    return hourly_counts(
        OutboxEvent.objects, field="created_at", start=start, hours=hours
    )


def outbox_last_delivered() -> dict[int, datetime]:
    """Return, per target platform id, when a delivery to it last succeeded."""
    rows = (
        OutboxEvent.objects.filter(status=OutboxEvent.Status.DELIVERED)
        .values_list("target_platform_id")
        .annotate(last=Max("delivered_at"))
        .order_by()
    )
    return dict(rows)
