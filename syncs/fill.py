"""A sync's initial fill: every source record it covers, sent once, page by page.

Creating or re-activating a sync on its source platform starts its fill
(fill_start, from syncs.signals); the admin's action and ``sync_backup
--fill`` start one by hand, and a backup that finds its target empty fills
it instead of comparing. A fill sends the way a backup repairs: outbox rows
that delivery turns into webhooks, built from the records as they are when
sent, so the target applies them by its own rules and a live change, whose
row comes later, wins over older fill data.

The fill walks the source in pk order (keyset pages of PAGE_RECORDS) under
a work queue lease, one transaction per page: the page's outbox rows and the
fill's cursor commit together, so a fill cut short (worker killed, broker
restarted) resumes at the page it was on. It stays at most WINDOW_BATCHES
webhooks ahead of delivery: memory, the outbox and the delay of live changes
behind it stay bounded whatever the table's size. The relay starts a fill
step again for every running fill (fills_resume); a step that finds the
lease taken leaves the fill to its holder.
"""

import logging
import time
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from django.apps import apps
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from platforms.conf import sync_settings
from platforms.selectors import platform_current
from syncs import enqueue
from syncs.backup.repair import repair_write
from syncs.backup.scope import source_queryset
from syncs.digest.records import key_queryset
from syncs.digest.scan import record_key_of
from syncs.identity import IdentityError, model_identifier_require
from syncs.models import EventType, OutboxEvent, Sync, SyncFill
from syncs.outbox import outbox_retry
from syncs.workqueue import work_lease_renew, work_request, work_run

logger = logging.getLogger(__name__)

PAGE_RECORDS = 1000
# Webhooks (of SYNC_BATCH_SIZE records) a fill queues ahead of delivery.
WINDOW_BATCHES = 20
# Seconds one step queues pages before it hands the worker back.
STEP_SECONDS = 5.0
# Seconds between steps while delivery catches up.
STEP_WAIT_SECONDS = 0.5

_UNDELIVERED = [OutboxEvent.Status.FAILED, OutboxEvent.Status.DEAD]


class FillError(Exception):
    """The sync cannot be filled from here (not its source, model missing...)."""


class _Restarted(Exception):
    """The fill was started again while this step ran: the step stops."""


def fill_queue_name(sync_id: int) -> str:
    """Return the work queue whose lease one fill step holds at a time."""
    return f"fill:{sync_id}"


def _step_request(sync_id: int) -> None:
    work_request(fill_queue_name(sync_id), partial(enqueue.fill_step, sync_id))


def fill_start(sync: Sync) -> SyncFill:
    """Start the sync's fill from its first record (again, if it ran before).

    The first step runs once the current transaction commits.
    """
    source = platform_current()
    if source is None or source.pk != sync.source_platform_id:
        raise FillError(f"Sync {sync.pk} ({sync}) does not send from this platform.")
    fill, _ = SyncFill.objects.update_or_create(
        sync=sync,
        defaults={
            "status": SyncFill.Status.RUNNING,
            "total": None,
            "queued": 0,
            "delivered": 0,
            "after": "",
            "first_outbox_pk": None,
            "error": "",
            "started_at": timezone.now(),
            "finished_at": None,
        },
    )
    transaction.on_commit(lambda: _step_request(sync.pk), robust=True)
    return fill


def sync_saving(sender, instance: Sync, raw: bool = False, **kwargs) -> None:
    """Note whether the sync about to be saved is new or was inactive (pre_save)."""
    if not raw:
        instance._mooxsync_fill_due = (
            instance.pk is None
            or not Sync.objects.filter(pk=instance.pk, status=True).exists()
        )


def sync_saved(sender, instance: Sync, raw: bool = False, **kwargs) -> None:
    """Start the fill of a sync created or re-activated here (post_save).

    Only on the sync's source platform, where its records are. A fixture's
    sync (raw) starts none: ``sync_backup --fill`` starts it by hand.
    """
    due = getattr(instance, "_mooxsync_fill_due", False)
    instance._mooxsync_fill_due = False
    if raw or not due or not instance.status:
        return
    source = platform_current()
    if source is not None and source.pk == instance.source_platform_id:
        fill_start(instance)


def fill_retry(fill: SyncFill) -> int:
    """Send the failed fill's undelivered rows again and let it go on.

    Return how many rows are sent again. The fill resumes at its cursor.
    """
    with transaction.atomic():
        retried = outbox_retry(queryset=_rows(fill).filter(status__in=_UNDELIVERED))
        SyncFill.objects.filter(pk=fill.pk).update(
            status=SyncFill.Status.RUNNING, error="", finished_at=None
        )
        transaction.on_commit(lambda: _step_request(fill.pk), robust=True)
    return retried


def fills_resume() -> list[int]:
    """Ask for a step of every running fill of an active sync; return their ids.

    Catches the steps lost with a killed worker or a restarted broker. A
    fill whose step is running meanwhile is left to it (the lease).
    """
    running = list(
        SyncFill.objects.filter(
            status=SyncFill.Status.RUNNING, sync__status=True
        ).values_list("pk", flat=True)
    )
    # Past the work queue's flag, as the outbox relay: a flag whose message
    # was lost would hold every later request back.
    for sync_id in running:
        enqueue.fill_step(sync_id)
    return running


def _rows(fill: SyncFill):
    """Return the outbox rows the fill wrote (and live rows of its sync since)."""
    if fill.first_outbox_pk is None:
        return OutboxEvent.objects.none()
    return OutboxEvent.objects.filter(
        target_platform_id=fill.sync.target_platform_id,
        sync_id=fill.pk,
        pk__gte=fill.first_outbox_pk,
    )


def _delivery_counts(fill: SyncFill) -> tuple[int, int, str]:
    """Return the fill's rows waiting, undelivered, and the last refusal."""
    rows = _rows(fill)
    waiting = rows.filter(
        status__in=[OutboxEvent.Status.PENDING, OutboxEvent.Status.INTENT]
    ).count()
    refused = rows.filter(status__in=_UNDELIVERED)
    failed = refused.count()
    error = refused.order_by("-pk").values_list("last_error", flat=True).first()
    return waiting, failed, error or ""


def fill_scope(sync: Sync):
    """Return the source records the fill sends, in pk order, and their key.

    Raise FillError when the sync's source model is missing or has no key.
    """
    try:
        identifier = model_identifier_require(sync.source_model)
        model = apps.get_model(sync.source_model)
    except (LookupError, ValueError) as exc:
        raise FillError(f"{sync.source_model} is not installed here: {exc}") from None
    except IdentityError as exc:
        raise FillError(str(exc)) from None
    queryset = source_queryset(sync).order_by("pk")
    if sync.sync_ids:
        pk = model._meta.pk
        queryset = queryset.filter(pk__in=[pk.to_python(i) for i in sync.sync_ids])
    return queryset, identifier


def _page_queue(fill: SyncFill, queryset, identifier: str) -> int:
    """Queue the next page of records; return how many (0: none left)."""
    pk = queryset.model._meta.pk
    page = key_queryset(queryset, identifier)
    if fill.after:
        page = page.filter(pk__gt=pk.to_python(fill.after))
    records = list(page[:PAGE_RECORDS])
    if not records:
        return 0
    now = timezone.now()
    rows = [
        OutboxEvent(
            sync_id=fill.pk,
            target_platform_id=fill.sync.target_platform_id,
            event_type=EventType.CREATED,
            object_pk=str(record.pk),
            object_key=record_key_of(record, identifier),
            status=OutboxEvent.Status.PENDING,
            next_attempt_at=now,
        )
        for record in records
    ]
    first = fill.first_outbox_pk is None
    with transaction.atomic():
        if first:  # MySQL alone gives bulk-created rows no pks back: the next id
            newest = OutboxEvent.objects.aggregate(newest=Max("pk"))["newest"]
        repair_write(rows=rows)
        if first:
            fill.first_outbox_pk = rows[0].pk or (newest or 0) + 1
        fill.after = str(records[-1].pk)
        fill.queued += len(records)
        moved = SyncFill.objects.filter(
            pk=fill.pk, started_at=fill.started_at, status=SyncFill.Status.RUNNING
        ).update(
            after=fill.after, queued=fill.queued, first_outbox_pk=fill.first_outbox_pk
        )
        if not moved:
            raise _Restarted  # rolls the page's rows back
    return len(records)


def _fail(fill: SyncFill, error: str) -> None:
    logger.warning("The fill of sync %s failed: %s", fill.pk, error)
    SyncFill.objects.filter(pk=fill.pk, started_at=fill.started_at).update(
        status=SyncFill.Status.FAILED, error=error, finished_at=timezone.now()
    )


def _step(sync_id: int) -> float | None:
    """Queue pages while delivery keeps up.

    Return the seconds after which the next step should run, None when the
    fill is over (or not this worker's to run).
    """
    fill = SyncFill.objects.select_related("sync").filter(pk=sync_id).first()
    if fill is None or fill.status != SyncFill.Status.RUNNING or not fill.sync.status:
        return None
    source = platform_current()
    if source is None or source.pk != fill.sync.source_platform_id:
        _fail(fill, "The sync no longer sends from this platform.")
        return None
    try:
        queryset, identifier = fill_scope(fill.sync)
    except FillError as exc:
        _fail(fill, str(exc))
        return None
    if fill.total is None:
        fill.total = queryset.count()
        SyncFill.objects.filter(pk=fill.pk).update(total=fill.total)
    window = WINDOW_BATCHES * sync_settings.SYNC_BATCH_SIZE
    deadline = time.monotonic() + STEP_SECONDS
    wait, finished = 0.0, False
    try:
        while True:
            waiting, failed, error = _delivery_counts(fill)
            if waiting + PAGE_RECORDS > window:
                wait = STEP_WAIT_SECONDS  # delivery catches up meanwhile
                break
            if not _page_queue(fill, queryset, identifier):
                finished = True
                break
            work_lease_renew(fill_queue_name(sync_id))
            if time.monotonic() >= deadline:
                break
    except _Restarted:
        return None
    waiting, failed, error = _delivery_counts(fill)
    SyncFill.objects.filter(pk=fill.pk, started_at=fill.started_at).update(
        delivered=max(0, fill.queued - waiting - failed)
    )
    if not finished:
        return wait
    if waiting:
        return STEP_WAIT_SECONDS
    if failed:
        _fail(fill, f"{failed} records were not delivered; the last error: {error}")
        return None
    SyncFill.objects.filter(pk=fill.pk, started_at=fill.started_at).update(
        status=SyncFill.Status.DONE,
        total=max(fill.total, fill.queued),
        finished_at=timezone.now(),
    )
    logger.info("The fill of sync %s is done: %s records.", sync_id, fill.queued)
    return None


def fill_run(sync_id: int) -> float | None:
    """Run a step of the fill under its lease.

    Return the seconds after which the next step should run; None when the
    fill is over, or when another worker holds the lease (that one goes on).
    """
    waits: list[float | None] = []
    work_run(fill_queue_name(sync_id), lambda: waits.append(_step(sync_id)))
    return waits[-1] if waits else None


@dataclass(frozen=True)
class FillProgress:
    """How far a fill is: records delivered of all, their rate, the time left."""

    done: int
    total: int | None
    rate: float  # records per second since the fill started
    left: timedelta | None

    @property
    def percent(self) -> int:
        if not self.total:
            return 100 if self.total == 0 else 0
        return min(100, self.done * 100 // self.total)


def fill_progress(fill: SyncFill) -> FillProgress:
    """Return the fill's progress as its row last recorded it."""
    end = fill.finished_at or timezone.now()
    seconds = max((end - fill.started_at).total_seconds(), 1e-3)
    rate = fill.delivered / seconds
    left = None
    if fill.total is not None and rate > 0:
        left = timedelta(seconds=round(max(0, fill.total - fill.delivered) / rate))
    return FillProgress(fill.delivered, fill.total, rate, left)
