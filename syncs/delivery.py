"""Deliver the outbox to one target platform: ordered, batched, signed, retried."""

import logging
from datetime import timedelta

from django.db.models import F
from django.utils import timezone

from platforms.conf import sync_settings
from platforms.models import Platform
from platforms.selectors import platform_current
from platforms.transport import SendResult, envelope_send, retry_delay
from syncs.files.schedule import files_transfer_request
from syncs.models import OutboxEvent
from syncs.payload import envelope_build
from syncs.workqueue import work_lease_renew

logger = logging.getLogger(__name__)


def _mark_delivered(rows: list[OutboxEvent]) -> None:
    OutboxEvent.objects.filter(pk__in=[r.pk for r in rows]).update(
        status=OutboxEvent.Status.DELIVERED,
        delivered_at=timezone.now(),
        attempts=F("attempts") + 1,
        last_error="",
    )
    files_transfer_request(rows=rows)  # the files follow their records


def _mark_failed(rows: list[OutboxEvent], result: SendResult) -> None:
    """Push the rows back (retryable) or fail them (refused)."""
    now = timezone.now()
    for row in rows:
        row.attempts += 1
        row.last_error = result.error
        if not result.retryable:
            row.status = OutboxEvent.Status.FAILED
        elif row.attempts >= sync_settings.SYNC_MAX_ATTEMPTS:
            row.status = OutboxEvent.Status.DEAD
        else:
            wait = retry_delay(row.attempts, result.retry_after)
            row.next_attempt_at = now + timedelta(seconds=wait)
    OutboxEvent.objects.bulk_update(
        rows, ["attempts", "last_error", "status", "next_attempt_at"]
    )
    logger.warning("Delivery of %d event(s) failed: %s", len(rows), result.error)


def _send_rows(source, target, rows) -> SendResult:
    result = envelope_send(
        source=source,
        target=target,
        body=envelope_build(source=source, target=target, rows=rows),
    )
    if result.ok:
        _mark_delivered(rows)
    elif not result.retryable and len(rows) > 1:
        # One bad event must not fail its neighbours: send each on its own.
        for row in rows:
            single = _send_rows(source, target, [row])
            if not single.ok and single.retryable:
                return single  # keep the order: the rest wait behind this row
        return SendResult(ok=True)
    else:
        _mark_failed(rows, result)
    return result


def _orphans_fail(rows: list[OutboxEvent]) -> list[OutboxEvent]:
    """Fail the rows whose sync is gone; return the others, in order."""
    # The listener may record a change for a sync deleted a moment ago elsewhere.
    if orphans := [row for row in rows if row.sync is None]:
        _mark_failed(orphans, SendResult(ok=False, error="Its sync no longer exists."))
    return [row for row in rows if row.sync is not None]


def _due_head(rows: list[OutboxEvent]) -> list[OutboxEvent]:
    now = timezone.now()
    due = []
    for row in rows:
        if row.next_attempt_at > now:
            break  # keep the order: nothing overtakes a row that waits
        due.append(row)
    return due


def outbox_drain(*, platform_id: int, queue: str) -> float | None:
    """Deliver due pending rows to one target; return seconds until the next try."""
    source = platform_current()
    target = Platform.objects.filter(pk=platform_id).first()
    if source is None or target is None:
        logger.error(
            "Cannot deliver to platform %s: no current or target platform "
            "(is SYNC_PLATFORM_DOMAIN set and its row installed?)",
            platform_id,
        )
        return None
    pending = (
        OutboxEvent.objects.filter(
            target_platform_id=platform_id, status=OutboxEvent.Status.PENDING
        )
        .select_related("sync")
        .order_by("pk")
    )
    while rows := list(pending[: sync_settings.SYNC_BATCH_SIZE]):
        due = _due_head(rows)
        if not due:
            return (rows[0].next_attempt_at - timezone.now()).total_seconds()
        if not (due := _orphans_fail(due)):
            continue
        result = _send_rows(source, target, due)
        if not result.ok and result.retryable:
            # The head is the row that failed, or the next one if it is dead.
            if (head := pending.first()) is None:
                return None
            return (head.next_attempt_at - timezone.now()).total_seconds()
        work_lease_renew(queue)
    return None
