"""Send the drift the way every change travels: outbox rows, then delivery.

So the target applies the repair by its own rules (field mappings, if_exists,
handlers, platform relations), signed and retried like any other change.
"""

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from platforms.conf import sync_settings
from platforms.models import Platform
from syncs.backup.compare import Drift
from syncs.models import EventType, OutboxEvent, Sync

# Delivery is asked for exactly as the listener asks for it (private there).
from syncs.outbox import outbox_delivery_request_on_commit
from syncs.payload import envelope_build

WRITE_BATCH = 1000


@dataclass(frozen=True)
class RepairSize:
    """What the repair costs on the wire: webhook bodies, and how many."""

    bytes: int = 0
    webhooks: int = 0


def repair_rows(*, sync: Sync, drift: Drift) -> list[OutboxEvent]:
    """Return unsaved outbox rows that bring the target level with the source."""
    now = timezone.now()

    def row(event_type: str, key, pk: str) -> OutboxEvent:
        return OutboxEvent(
            sync=sync,
            target_platform_id=sync.target_platform_id,
            event_type=event_type,
            object_pk=pk,
            object_key=key,
            status=OutboxEvent.Status.PENDING,
            next_attempt_at=now,
        )

    return (
        [row(EventType.CREATED, entry.key, entry.pk) for entry in drift.created]
        + [row(EventType.UPDATED, entry.key, entry.pk) for entry in drift.updated]
        # Gone at the source: no pk here, the key is what the target matches.
        + [row(EventType.DELETED, key, "") for key in drift.deleted]
    )


def repair_write(*, rows: list[OutboxEvent]) -> None:
    """Store the rows in one transaction; ask for their delivery once committed."""
    if not rows:
        return
    targets = {row.target_platform_id for row in rows}
    with transaction.atomic():
        OutboxEvent.objects.bulk_create(rows, batch_size=WRITE_BATCH)
        outbox_delivery_request_on_commit(targets=targets)


def repair_measure(
    *, source: Platform, target: Platform, rows: list[OutboxEvent]
) -> RepairSize:
    """Return the size of the webhook bodies that deliver ``rows``.

    Built as delivery builds them, in batches of SYNC_BATCH_SIZE, from the
    records as they are now.
    """
    size, batch = 0, sync_settings.SYNC_BATCH_SIZE
    for first in range(0, len(rows), batch):
        body = envelope_build(
            source=source, target=target, rows=rows[first : first + batch]
        )
        size += len(body)
    return RepairSize(bytes=size, webhooks=-(-len(rows) // batch))
