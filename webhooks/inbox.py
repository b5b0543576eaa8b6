"""Store received events in the inbox, once per event id, and ask for SyncJob."""

from django.db import transaction

from platforms.models import Platform
from syncs.workqueue import work_request
from webhooks.envelope import envelope_sync_for, fields_check, fields_mapped
from webhooks.models import InboxEvent

INBOX_QUEUE = "inbox"


def inbox_apply_request() -> None:
    """Ask for SyncJob, unless a request is pending already."""
    from webhooks.tasks import inbox_apply  # tasks import this module

    work_request(INBOX_QUEUE, inbox_apply.delay)


def inbox_events_build(
    *, source: Platform, target: Platform, events: list[dict]
) -> list[InboxEvent]:
    """Check every event against the allow-list and build its inbox row.

    Raises EnvelopeRefused for the first event that may not be written.
    """
    syncs: dict = {}
    rows = []
    for event in events:
        sync = envelope_sync_for(event, source=source, target=target, syncs=syncs)
        data = fields_mapped(sync, event["data"])
        fields_check(sync, data)
        rows.append(
            InboxEvent(
                source_platform=source,
                sync=sync,
                event_id=event["id"],
                version=event["version"],
                event_type=event["type"],
                model_label=sync.target_model,
                object_key=event["key"],
                data=data,
                should_delete=event["should_delete"],
                platforms=event.get("platforms"),
            )
        )
    return rows


@transaction.atomic
def inbox_store(*, source: Platform, rows: list[InboxEvent]) -> tuple[int, int]:
    """Store the rows not stored yet; return (accepted, duplicates)."""
    ids = [row.event_id for row in rows]
    seen = set(
        InboxEvent.objects.filter(source_platform=source, event_id__in=ids).values_list(
            "event_id", flat=True
        )
    )
    fresh = {row.event_id: row for row in rows if row.event_id not in seen}
    InboxEvent.objects.bulk_create(fresh.values(), ignore_conflicts=True)
    if fresh:
        transaction.on_commit(inbox_apply_request)
    return len(fresh), len(rows) - len(fresh)
