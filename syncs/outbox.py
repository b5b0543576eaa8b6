"""Write side of the outbox: record a change in the same transaction as it."""

from datetime import timedelta
from functools import cache, partial, update_wrapper

from django.db import connections, models, router, transaction
from django.utils import timezone

from syncs.bindings import transformer_for
from syncs.identity import record_key
from syncs.models import OutboxEvent
from syncs.registry import SyncRoute
from syncs.workqueue import work_flags_sql, work_request


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
        {
            "sync": route.sync_id,
            "target_platform": route.target_platform_id,
            "event_type": event_type,
            "object_pk": pk,
            "object_key": record_key(record, route.identifier),
            "status": OutboxEvent.Status.PENDING.value,
            "attempts": 0,
            "last_error": "",
            "created_at": now,
            "next_attempt_at": now + _transformer_delay(record, route),
            "delivered_at": None,
        }
        for route in routes
        if not route.sync_ids or pk in route.sync_ids
    ]
    if not rows:
        return
    targets = _outbox_write(rows)
    if not targets:
        return  # a drain is requested already and will see these rows
    outbox_delivery_request_on_commit(targets=targets)


def outbox_delivery_request_on_commit(*, targets: set[int]) -> None:
    """Ask for delivery to ``targets`` once the current transaction commits."""
    # Robust: the change is committed, so a broker that is down must not turn
    # the save into an error; the next commit asks again. (Django names the
    # callback when it logs the failure: give the partial a name.)
    request = update_wrapper(partial(_delivery_request, targets), _delivery_request)
    transaction.on_commit(request, robust=True)


@cache
def _insert_plan(vendor: str) -> tuple[str, list[tuple[str, str]]]:
    """Return the INSERT prefix and, per column, the row key and its kind."""
    fields = [f for f in OutboxEvent._meta.concrete_fields if not f.primary_key]
    kinds = {models.DateTimeField: "datetime", models.JSONField: "json"}
    columns = [
        (f.name, next((k for t, k in kinds.items() if isinstance(f, t)), ""))
        for f in fields
    ]
    quote = connections[router.db_for_write(OutboxEvent)].ops.quote_name
    prefix = "INSERT INTO {} ({}) VALUES ".format(
        quote(OutboxEvent._meta.db_table), ", ".join(quote(f.column) for f in fields)
    )
    return prefix, columns


def _outbox_write(rows: list[dict]) -> set[int]:
    """Insert outbox rows; return the targets whose drain is not requested yet.

    This runs on every save of a synced model, so it skips the ORM's query
    building (which doubled the cost of a save) and, on PostgreSQL, sends the
    insert and the flag read (shared-locked, see work_requested_now) as one
    statement: one round trip more than the save itself, not two.
    """
    connection = connections[router.db_for_write(OutboxEvent)]
    prefix, columns = _insert_plan(connection.vendor)
    ops = connection.ops
    adapt = {
        "datetime": ops.adapt_datetimefield_value,
        "json": lambda value: ops.adapt_json_value(value, None),
        "": lambda value: value,
    }
    params = [[adapt[kind](row[name]) for name, kind in columns] for row in rows]
    targets = {row["target_platform"] for row in rows}
    names = [outbox_queue_name(target) for target in targets]
    flags = work_flags_sql(connection, len(names))
    one_row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            values = ", ".join([one_row] * len(rows))
            cursor.execute(
                f"WITH written AS ({prefix}{values}) {flags}",
                [value for row in params for value in row] + names,
            )
        elif len(rows) == 1:
            # SQLite: the insert hands back the flag too, in one statement.
            flag = work_flags_sql(connection, 1, columns="requested")
            cursor.execute(f"{prefix}{one_row} RETURNING ({flag})", params[0] + names)
            return set() if cursor.fetchone()[0] else targets
        else:
            cursor.executemany(prefix + one_row, params)
            cursor.execute(flags, names)
        requested = {name for name, flag in cursor.fetchall() if flag}
    return {t for t in targets if outbox_queue_name(t) not in requested}


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


def outbox_targets_due() -> list[int]:
    """Return the targets that have pending rows due now."""
    return list(
        OutboxEvent.objects.filter(
            status=OutboxEvent.Status.PENDING, next_attempt_at__lte=timezone.now()
        )
        .values_list("target_platform_id", flat=True)
        .distinct()
    )


def outbox_delivered_purge(*, days: int) -> int:
    """Delete delivered rows older than ``days``; return how many."""
    cutoff = timezone.now() - timedelta(days=days)
    deleted, _ = OutboxEvent.objects.filter(
        status=OutboxEvent.Status.DELIVERED, delivered_at__lt=cutoff
    ).delete()
    return deleted


def outbox_retry(*, queryset) -> int:
    """Send failed or dead rows (or pending ones) again now; return how many."""
    rows = queryset.exclude(status=OutboxEvent.Status.DELIVERED)
    targets = set(rows.values_list("target_platform_id", flat=True))
    count = rows.update(
        status=OutboxEvent.Status.PENDING,
        attempts=0,
        next_attempt_at=timezone.now(),
    )
    from syncs.tasks import outbox_deliver  # tasks import this module

    for platform_id in targets:
        transaction.on_commit(partial(outbox_deliver.delay, platform_id), robust=True)
    return count
