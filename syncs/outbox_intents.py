"""Write-ahead intents: autocommit saves survive a death before post_save.

Outside a transaction (autocommit) save() commits before post_save runs, so a
process that dies between the two would lose the change: pre_save writes an
"intent" row first, committed at once, that delivery never drains. post_save
replaces it with the pending row as usual; if the process died,
outbox_intents_recover replaces it once SYNC_INTENT_TIMEOUT is over. The
replacement is a new row, never the intent promoted in place: a promoted intent
would carry a version older than rows of the same record delivered meanwhile,
which the target skips.
"""

from datetime import timedelta

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import connections, models, router, transaction
from django.utils import timezone

from platforms.conf import sync_settings
from syncs.identity import (
    IdentityError,
    model_identifier_require,
    record_find,
    record_key,
)
from syncs.models import EventType, OutboxEvent
from syncs.outbox import outbox_record
from syncs.registry import SyncRoute

INTENTS_ATTRIBUTE = "_mooxsync_intents"


def outbox_in_transaction() -> bool:
    """Tell whether outbox rows written now commit with the current change."""
    return connections[router.db_for_write(OutboxEvent)].in_atomic_block


def outbox_intents_write(
    *, record: models.Model, routes: tuple[SyncRoute, ...]
) -> list[int]:
    """Write and commit an intent row per route of a save about to run."""
    pk = None if record.pk is None else str(record.pk)
    event_type = EventType.CREATED if record._state.adding else EventType.UPDATED
    now = timezone.now()
    return [
        OutboxEvent.objects.create(
            sync_id=route.sync_id,
            target_platform_id=route.target_platform_id,
            event_type=event_type,
            object_pk=pk or "",  # an auto pk is known after the insert only
            object_key=record_key(record, route.identifier),
            status=OutboxEvent.Status.INTENT,
            next_attempt_at=now,
        ).pk
        for route in routes
        if pk is None or not route.sync_ids or pk in route.sync_ids
    ]


def outbox_intents_settle(
    *,
    record: models.Model,
    event_type: str,
    routes: tuple[SyncRoute, ...],
    intents: list[int],
) -> None:
    """Replace a saved record's intents by pending rows (its post_save)."""
    with transaction.atomic(using=router.db_for_write(OutboxEvent)):
        outbox_record(record=record, event_type=event_type, routes=routes)
        # One already replaced by outbox_intents_recover is gone: the row just
        # written sends the newest state anyway.
        _intents_delete(intents)


def outbox_intents_recover() -> int:
    """Replace intents older than SYNC_INTENT_TIMEOUT; return how many.

    Their saves died between commit and post_save, or failed. A record that
    exists gets a pending row, which sends its current state: right whether
    that save committed or not. An intent whose record does not exist (a
    create that never committed) goes without a trace.
    """
    cutoff = timezone.now() - timedelta(seconds=sync_settings.SYNC_INTENT_TIMEOUT)
    stale = OutboxEvent.objects.filter(
        status=OutboxEvent.Status.INTENT, created_at__lt=cutoff
    ).select_related("sync")
    count = 0
    for intent in stale.order_by("pk"):
        _intent_recover(intent)
        count += 1
    return count


def _intent_recover(intent: OutboxEvent) -> None:
    """Replace one stale intent by a pending row for its record, if it exists."""
    found = _intent_record(intent)
    with transaction.atomic(using=router.db_for_write(OutboxEvent)):
        if found is not None:
            record, key = found
            OutboxEvent.objects.create(
                sync_id=intent.sync_id,
                target_platform_id=intent.target_platform_id,
                event_type=intent.event_type,
                object_pk=str(record.pk),
                object_key=key,
                next_attempt_at=timezone.now(),
            )
        _intents_delete([intent.pk])


def _intent_record(intent: OutboxEvent) -> tuple[models.Model, object] | None:
    """Return the record an intent was written for and its key now, or None.

    A create is found by its key; an update by its pk, since the key it was
    saved with may never have committed. None also for a record outside the
    sync's ``sync_ids``, or a sync or model that is gone.
    """
    if (sync := intent.sync) is None:
        return None
    try:
        model = apps.get_model(sync.source_model)
        identifier = model_identifier_require(sync.source_model)
        if intent.object_pk:
            record = model._default_manager.filter(pk=intent.object_pk).first()
        else:
            record = record_find(model, identifier, intent.object_key)
    except (LookupError, ValueError, IdentityError, ValidationError):
        return None
    sync_ids = {str(i) for i in sync.sync_ids}
    if record is None or (sync_ids and str(record.pk) not in sync_ids):
        return None
    return record, record_key(record, identifier)


def _intents_delete(ids: list[int]) -> None:
    OutboxEvent.objects.filter(pk__in=ids, status=OutboxEvent.Status.INTENT).delete()
