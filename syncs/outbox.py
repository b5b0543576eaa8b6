"""Write side of the outbox: record a change in the same transaction as it."""

from datetime import timedelta
from functools import partial, update_wrapper

from django.db import models, transaction
from django.utils import timezone

from syncs.bindings import transformer_for
from syncs.identity import record_key
from syncs.models import OutboxEvent
from syncs.registry import SyncRoute
from syncs.workqueue import work_request


def outbox_queue_name(platform_id: int) -> str:
    """Return the work queue name of one target platform's outbox."""
    return f"outbox:{platform_id}"


def _delivery_request(platform_ids: set[int]) -> None:
    from syncs.tasks import outbox_deliver  # tasks import this module

    for platform_id in platform_ids:
        work_request(
            outbox_queue_name(platform_id),
            partial(outbox_deliver.delay, platform_id),
        )


def outbox_record(
    *, record: models.Model, event_type: str, routes: tuple[SyncRoute, ...]
) -> None:
    """Write one outbox row per route and ask for delivery once committed."""
    pk = str(record.pk)
    now = timezone.now()
    rows = [
        OutboxEvent(
            sync_id=route.sync_id,
            target_platform_id=route.target_platform_id,
            event_type=event_type,
            object_pk=pk,
            object_key=record_key(record, route.identifier),
            next_attempt_at=now + _transformer_delay(record, route),
        )
        for route in routes
        if not route.sync_ids or pk in route.sync_ids
    ]
    if not rows:
        return
    OutboxEvent.objects.bulk_create(rows)
    targets = {row.target_platform_id for row in rows}
    # Robust: the change is committed, so a broker that is down must not turn
    # the save into an error; the next commit asks again. (Django names the
    # callback when it logs the failure: give the partial a name.)
    request = update_wrapper(partial(_delivery_request, targets), _delivery_request)
    transaction.on_commit(request, robust=True)


def _transformer_delay(record: models.Model, route: SyncRoute):
    """Return how long a transformer asks the delivery of this record to wait."""
    if not route.uses_transformer:
        return timedelta(0)
    transformer = transformer_for(record._meta.label)
    delay = getattr(transformer, "delay", None)
    seconds = delay(record) if delay else 0
    return timedelta(seconds=seconds or 0)


def outbox_record_many(
    *, model: type[models.Model], pks, event_type: str, routes
) -> None:
    """Record a change of several records of ``model`` (many-to-many edits)."""
    for record in model._default_manager.filter(pk__in=list(pks)):
        outbox_record(record=record, event_type=event_type, routes=routes)
