"""Write side of the outbox: record a change in the same transaction as it."""

from datetime import datetime, timedelta
from functools import partial, update_wrapper

from django.db import connections, models, router, transaction
from django.utils import timezone

from syncs import enqueue
from syncs.bindings import transformer_for
from syncs.event_ids import event_id_new, event_version_new
from syncs.identity import record_key_json
from syncs.models import OutboxEvent
from syncs.registry import SyncRoute
from syncs.workqueue import work_flags_sql, work_request


def outbox_queue_name(platform_id: int) -> str:
    """Return the work queue name of one target platform's outbox."""
    return f"outbox:{platform_id}"


def _delivery_request(platform_ids: set[int]) -> None:
    """Ask for the drain of each target's outbox, unless one is asked for."""
    for platform_id in platform_ids:
        name = outbox_queue_name(platform_id)
        work_request(name, partial(enqueue.outbox_deliver, platform_id))


def outbox_delivery_request_on_commit(*, targets: set[int]) -> None:
    """Ask for delivery to ``targets`` once the current transaction commits."""
    # Robust: the change is committed, so a broker that is down must not turn
    # the save into an error; the next commit asks again. (Django names the
    # callback when it logs the failure: give the partial a name.)
    request = update_wrapper(partial(_delivery_request, targets), _delivery_request)
    transaction.on_commit(request, robust=True)


# The columns of a new outbox row, in the order of outbox_record's values
# (plain names, which every database takes unquoted).
_COLUMNS = (
    "event_id",
    "version",
    "sync_id",
    "target_platform_id",
    "event_type",
    "object_pk",
    "object_key",
    "created_at",
    "next_attempt_at",
    "status",
    "attempts",
    "last_error",
)
_INSERT = f"INSERT INTO {OutboxEvent._meta.db_table} ({', '.join(_COLUMNS)}) VALUES "
_ROW = "(" + ", ".join(["%s"] * len(_COLUMNS)) + ")"
_TARGET = _COLUMNS.index("target_platform_id")


def outbox_record(
    *, record: models.Model, event_type: str, routes: tuple[SyncRoute, ...]
) -> None:
    """Write one outbox row per route and ask for delivery once committed."""
    connection = connections[router.db_for_write(OutboxEvent)]
    # The values as the driver takes them, adapted as Django's fields would.
    adapt_time = connection.ops.adapt_datetimefield_value
    pk, now = str(record.pk), timezone.now()
    rows = [
        (
            event_id_new(),
            event_version_new(),
            route.sync_id,
            route.target_platform_id,
            event_type,
            pk,
            record_key_json(record, route.identifier),
            adapt_time(now),
            adapt_time(_delivery_at(record, route, now)),
            OutboxEvent.Status.PENDING.value,
            0,
            "",
        )
        for route in routes
        if not route.sync_ids or pk in route.sync_ids
    ]
    if rows:
        _outbox_write(connection, rows)


def _outbox_write(connection, rows: list[tuple]) -> None:
    """Insert outbox rows; ask for delivery on commit where nobody asked yet.

    The targets' flags are read after the insert, in its transaction and
    locked shared (see work_flags_sql): a set flag means a drain to come sees
    the rows, and the save needs nothing more. Plain SQL, not the ORM: this
    runs in every save of a synced model, where building an ORM query costs
    more than the save's own insert.
    """
    targets = {outbox_queue_name(row[_TARGET]): row[_TARGET] for row in rows}
    insert = _INSERT + ", ".join([_ROW] * len(rows))
    flags = work_flags_sql(connection, len(targets))
    values = [value for row in rows for value in row]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One statement, one round trip: there the round trip is the cost.
            cursor.execute(f"WITH written AS ({insert}) {flags}", [*values, *targets])
        else:
            cursor.execute(insert, values)
            cursor.execute(flags, list(targets))
        requested = {name for name, flag in cursor.fetchall() if flag}
    if waiting := {t for name, t in targets.items() if name not in requested}:
        outbox_delivery_request_on_commit(targets=waiting)


def _delivery_at(record: models.Model, route: SyncRoute, now: datetime) -> datetime:
    """Return when the change is due: now, or later if a transformer delays it."""
    if not route.uses_transformer:
        return now
    delay = getattr(transformer_for(record._meta.label), "delay", None)
    return now + timedelta(seconds=delay(record) if delay else 0)


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
    # An intent is not a change yet: its save may still run (see outbox_intents).
    rows = queryset.exclude(
        status__in=[OutboxEvent.Status.DELIVERED, OutboxEvent.Status.INTENT]
    )
    targets = set(rows.values_list("target_platform_id", flat=True))
    count = rows.update(
        status=OutboxEvent.Status.PENDING,
        attempts=0,
        next_attempt_at=timezone.now(),
    )
    for platform_id in targets:
        transaction.on_commit(partial(enqueue.outbox_deliver, platform_id), robust=True)
    return count
