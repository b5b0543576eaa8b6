"""Reads behind the admin dashboard: both sides of delivery, per platform."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from platforms.models import Platform
from syncs.chart import Chart, hourly_chart
from syncs.dashboard import (
    SyncFigures,
    hourly_counts,
    outbox_hourly_counts,
    outbox_last_delivered,
    outbox_status_counts,
    status_counts,
    sync_figures,
    window_start,
)
from webhooks.models import InboxEvent

HOURS = 24


@dataclass(frozen=True)
class PlatformContact:
    """When this platform last heard from or got through to another one."""

    platform: Platform
    last_delivered: datetime | None
    last_received: datetime | None

    @property
    def last_contact(self) -> datetime | None:
        return max(
            filter(None, [self.last_delivered, self.last_received]), default=None
        )


@dataclass(frozen=True)
class Dashboard:
    """Everything the admin index shows about syncing."""

    since: datetime
    syncs: SyncFigures
    outbox: dict[str, int]
    inbox: dict[str, int]
    platforms: list[PlatformContact]
    chart: Chart


def inbox_last_received() -> dict[int, datetime]:
    """Return, per source platform id, when an event from it last arrived."""
    rows = (
        InboxEvent.objects.values_list("source_platform_id")
        .annotate(last=Max("received_at"))
        .order_by()
    )
    return dict(rows)


def platform_contacts() -> list[PlatformContact]:
    """Return every other platform with its last successful contact."""
    delivered, received = outbox_last_delivered(), inbox_last_received()
    others = [p for p in Platform.objects.order_by("order", "name") if not p.is_current]
    return [PlatformContact(p, delivered.get(p.pk), received.get(p.pk)) for p in others]


def dashboard_read(*, now: datetime | None = None) -> Dashboard:
    """Read the dashboard's figures for the last 24 hours up to ``now``."""
    start = window_start(now=now or timezone.now(), hours=HOURS)
    inbox_hourly = hourly_counts(
        InboxEvent.objects, field="received_at", start=start, hours=HOURS
    )
    chart = hourly_chart(
        start=start,
        series=[
            (_("sent"), "outbox", outbox_hourly_counts(start=start, hours=HOURS)),
            (_("received"), "inbox", inbox_hourly),
        ],
    )
    return Dashboard(
        since=start,
        syncs=sync_figures(),
        outbox=outbox_status_counts(since=start),
        inbox=status_counts(InboxEvent.objects, field="received_at", since=start),
        platforms=platform_contacts(),
        chart=chart,
    )
