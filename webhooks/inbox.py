"""Store received events in the inbox, once per event id, and ask for SyncJob."""

from django.db import IntegrityError, transaction

from platforms.models import Platform
from syncs.mapping import fields_mapped
from syncs.workqueue import work_request
from webhooks import enqueue
from webhooks.envelope import envelope_sync_for, fields_check
from webhooks.models import InboxEvent
from webhooks.signed import SignedRequestRefused

INBOX_QUEUE = "inbox"


def inbox_apply_request() -> None:
    """Ask for SyncJob, unless a request is pending already."""
    work_request(INBOX_QUEUE, enqueue.inbox_apply)


def inbox_events_build(
    *, source: Platform, target: Platform, events: list[dict]
) -> list[InboxEvent]:
    """Check every event against the allow-list and build its inbox row.

    Raises SignedRequestRefused for the first event that may not be written, named
    by its place in the batch and its id.
    """
    syncs: dict = {}
    rows = []
    for index, event in enumerate(events):
        try:
            sync = envelope_sync_for(event, source=source, target=target, syncs=syncs)
            data = fields_mapped(sync, event["data"])
            fields_check(sync, data)
        except SignedRequestRefused as exc:
            where = f"events[{index}] (id {event['id']!r})"
            raise SignedRequestRefused(
                exc.code, f"{where}: {exc.detail}", exc.status
            ) from None
        rows.append(
            InboxEvent(
                source_platform=source,
                sync=sync,
                event_id=event["id"],
                version=event["version"],
                event_type=event["type"],
                model_label=sync.target_model,
                object_key=event["key"],
                source_pk=event.get("source_pk", ""),
                data=data,
                should_delete=event["should_delete"],
                platforms=event.get("platforms"),
            )
        )
    return rows


@transaction.atomic
def inbox_store(*, source: Platform, rows: list[InboxEvent]) -> tuple[int, int]:
    """Store the rows not stored yet; return (accepted, duplicates).

    ``accepted`` counts exactly the rows inserted here. The rows must have
    distinct event ids (EnvelopeSerializer refuses a batch that repeats one).
    """
    ids = [row.event_id for row in rows]
    seen = set(
        InboxEvent.objects.filter(source_platform=source, event_id__in=ids).values_list(
            "event_id", flat=True
        )
    )
    fresh = [row for row in rows if row.event_id not in seen]
    # No ignore_conflicts: it ignores more than conflicts (SQLite's OR IGNORE
    # drops a row that fails a CHECK, MySQL's IGNORE stores truncated values).
    try:
        with transaction.atomic():
            InboxEvent.objects.bulk_create(fresh)
        stored = len(fresh)
    except IntegrityError:
        stored = _store_one_by_one(fresh)  # a concurrent request stored some
    if stored:
        transaction.on_commit(inbox_apply_request)
    return stored, len(rows) - stored


def _store_one_by_one(rows: list[InboxEvent]) -> int:
    """Insert each row unless its id is stored meanwhile; return how many were."""
    stored = 0
    for row in rows:
        row.pk = None
        try:
            with transaction.atomic():
                row.save(force_insert=True)
        except IntegrityError:
            if not _stored_meanwhile(row):
                raise  # refused for another reason: not a duplicate
            continue
        stored += 1
    return stored


def _stored_meanwhile(row: InboxEvent) -> bool:
    # A locking read: MySQL's plain reads keep to the snapshot taken before
    # the other request committed.
    return (
        InboxEvent.objects.select_for_update()
        .filter(source_platform_id=row.source_platform_id, event_id=row.event_id)
        .exists()
    )
