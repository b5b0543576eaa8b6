"""Write side of the outbox: record a change in the same transaction as it."""

import time
from datetime import UTC, datetime, timedelta
from functools import cache, partial, update_wrapper
from itertools import chain

from django.core.exceptions import ImproperlyConfigured
from django.db import connections, models, router, transaction
from django.db.models import Max
from django.utils import timezone

from syncs.bindings import transformer_for
from syncs.identity import (
    record_key_json,
)
from syncs.models import OUTBOX_TOMBSTONE, OutboxEvent
from syncs.registry import SyncRoute
from syncs.workqueue import work_flags_sql, work_request


def outbox_queue_name(platform_id: int) -> str:
    """Return the work queue name of one target platform's outbox."""
    return f"outbox:{platform_id}"


def _delivery_request(platform_ids: set[int], flags=None) -> None:
    """Ask for the drain of each target's outbox, unless one is asked for.

    ``flags`` is the deferred read of the targets' flags that went with the
    rows' insert (PostgreSQL, see _outbox_write): the targets it found asked
    for need nothing more. Never sent (no real commit came, as in tests), it
    tells nothing, and each request reads the flag itself.
    """
    from syncs.tasks import outbox_deliver  # tasks import this module

    requested = {name for name, flag in (flags and flags.rows) or () if flag}
    for platform_id in platform_ids:
        if (name := outbox_queue_name(platform_id)) not in requested:
            work_request(name, partial(outbox_deliver.delay, platform_id))


def outbox_record(
    *, record: models.Model, event_type: str, routes: tuple[SyncRoute, ...]
) -> None:
    """Write one outbox row per route and ask for delivery once committed."""
    # Every save of a synced model comes here: the row's values are built
    # straight into the parameters the driver takes.
    pk = str(record.pk)
    connection = connections[router.db_for_write(OutboxEvent)]
    now = _now_adapted(connection)
    rows = [
        (  # the columns of _ROW_COLUMNS, then those of _NEW_ROW_CONSTANTS
            route.sync_id,
            route.target_platform_id,
            event_type,
            pk,
            record_key_json(record, route.identifier),
            now,
            _next_attempt_at(connection, record, route) or now,
            *_NEW_ROW_VALUES,
        )
        for route in routes
        if not route.sync_ids or pk in route.sync_ids
    ]
    if rows:
        _outbox_write(connection, rows)


def outbox_delivery_request_on_commit(*, targets: set[int], flags=None) -> None:
    """Ask for delivery to ``targets`` once the current transaction commits."""
    # Robust: the change is committed, so a broker that is down must not turn
    # the save into an error; the next commit asks again. (Django names the
    # callback when it logs the failure: give the partial a name.)
    request = update_wrapper(
        partial(_delivery_request, targets, flags), _delivery_request
    )
    transaction.on_commit(request, robust=True)


# The columns of a new outbox row that differ from row to row, in order.
_ROW_COLUMNS = (
    "sync_id",
    "target_platform_id",
    "event_type",
    "object_pk",
    "object_key",  # JSON text
    "created_at",
    "next_attempt_at",
)
# The columns every new row starts with the same value in.
_NEW_ROW_CONSTANTS = {
    "status": OutboxEvent.Status.PENDING.value,
    "attempts": 0,
    "last_error": "",
    "delivered_at": None,
}
_NEW_ROW_VALUES = tuple(_NEW_ROW_CONSTANTS.values())


_insert_sqls: dict[str, tuple[str, str]] = {}


def _insert_sql(connection) -> tuple[str, str]:
    """Return the INSERT prefix and the placeholders of one row (per vendor)."""
    if found := _insert_sqls.get(connection.vendor):
        return found
    fields = {f.attname: f for f in OutboxEvent._meta.concrete_fields}
    columns = [*_ROW_COLUMNS, *_NEW_ROW_CONSTANTS]
    if set(columns) != set(fields) - {OutboxEvent._meta.pk.attname}:
        raise ImproperlyConfigured(
            f"syncs.outbox writes the columns {sorted(columns)} but OutboxEvent "
            f"has {sorted(fields)}: update _ROW_COLUMNS or _NEW_ROW_CONSTANTS."
        )
    quote = connection.ops.quote_name
    json_mark = "%s::jsonb" if connection.vendor == "postgresql" else "%s"
    marks = [json_mark if c == "object_key" else "%s" for c in columns]
    prefix = "INSERT INTO {} ({}) VALUES ".format(
        quote(OutboxEvent._meta.db_table),
        ", ".join(quote(fields[c].column) for c in columns),
    )
    found = _insert_sqls[connection.vendor] = prefix, "(" + ", ".join(marks) + ")"
    return found


_write_sqls: dict[tuple[str, int, int], str] = {}


def _write_sql(connection, rows: int, targets: int) -> str:
    """Return the statement that inserts ``rows`` rows (per vendor, cached).

    On PostgreSQL it reads the flags of ``targets`` queues too, as rows of
    (name, requested), and locks them shared (see work_flags_sql).
    """
    key = (connection.vendor, rows, targets)
    if found := _write_sqls.get(key):
        return found
    insert, one_row = _insert_sql(connection)
    sql = insert + ", ".join([one_row] * rows)
    if connection.vendor == "postgresql":
        sql = f"WITH written AS ({sql}) " + work_flags_sql(connection, targets)
    found = _write_sqls[key] = sql
    return found


_flags_sqls: dict[tuple[str, int], str] = {}


def _flags_sql(connection, targets: int) -> str:
    """Return the read of ``targets`` queues' flags (per vendor, cached)."""
    key = (connection.vendor, targets)
    if not (found := _flags_sqls.get(key)):
        found = _flags_sqls[key] = work_flags_sql(connection, targets)
    return found


def _outbox_write(connection, rows: list[tuple]) -> None:
    """Insert outbox rows; ask for delivery on commit where nobody asked yet.

    This runs on every save of a synced model, in the save's transaction, so
    it costs as little as it can: the insert, and the read of the targets'
    flags after it (shared-locked, see work_flags_sql); a set flag means the
    rows are seen by a drain to come. It skips the ORM's query building, and
    on SQLite Django's cursor wrapper too (see _fetch): together they cost
    more than the insert. On PostgreSQL, where the round trip is the cost,
    the two are one statement, which rides with the next statement or with
    COMMIT (mooxsync.db.postgresql).
    """
    if connection.vendor == "sqlite" and len(rows) == 1:
        # The common save: one row for one target (see the else below).
        target = rows[0][1]
        _fetch(connection, _write_sql(connection, 1, 0), rows[0])
        found = _fetch(
            connection, _flags_sql(connection, 1), [outbox_queue_name(target)]
        )
        if not (found and found[0][1]):
            outbox_delivery_request_on_commit(targets={target})
        return
    targets = {row[1] for row in rows}
    names = [outbox_queue_name(target) for target in targets]
    if connection.vendor == "postgresql":
        sql = _write_sql(connection, len(rows), len(names))
        params = [*chain.from_iterable(rows), *names]
        defer = getattr(connection, "statement_defer", None)
        if defer and connection.in_atomic_block and not connection.queries_logged:
            # The flags are read when the statement goes, so the request on
            # commit is always made and reads them then.
            outbox_delivery_request_on_commit(targets=targets, flags=defer(sql, params))
            return
        found = _fetch(connection, sql, params)
    else:
        # The insert takes SQLite's write lock, which no worker's clear of a
        # flag passes before this commits: the flags read after it hold.
        # (Two statements cost less here than one insert RETURNING them.)
        params = rows[0] if len(rows) == 1 else list(chain.from_iterable(rows))
        _fetch(connection, _write_sql(connection, len(rows), 0), params)
        found = _fetch(connection, _flags_sql(connection, len(names)), names)
    requested = {name for name, flag in found if flag}
    if waiting := {t for t in targets if outbox_queue_name(t) not in requested}:
        outbox_delivery_request_on_commit(targets=waiting)


def _fetch(connection, sql: str, params: list) -> list[tuple]:
    """Run one statement and return the rows it returns.

    On SQLite, unless queries are logged (DEBUG, assertNumQueries) or wrapped
    (connection.execute_wrapper), on sqlite3's own cursor, which costs a
    fraction of Django's, with Django's translation of driver errors kept.
    """
    if connection.vendor != "sqlite" or (
        connection.queries_logged or connection.execute_wrappers
    ):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall() if cursor.description else []
    if connection.connection is None:
        connection.ensure_connection()
    try:
        return connection.connection.execute(_qmark(sql), params).fetchall()
    except Exception:
        with connection.wrap_database_errors:  # raise what Django would
            raise


@cache
def _qmark(sql: str) -> str:
    """Return ``sql`` with sqlite3's placeholders (ours hold no other %)."""
    return sql.replace("%s", "?")


def _next_attempt_at(connection, record: models.Model, route: SyncRoute):
    """Return when a transformer wants the change delivered, if it delays it."""
    if not route.uses_transformer:
        return None
    transformer = transformer_for(record._meta.label)
    delay = getattr(transformer, "delay", None)
    if not (seconds := delay(record) if delay else 0):
        return None
    later = timezone.now() + timedelta(seconds=seconds)
    return connection.ops.adapt_datetimefield_value(later)


def _now_adapted(connection):
    """Return the time now as the driver takes it for a DateTimeField.

    On SQLite in UTC (Django's default), the text Django would write, from a
    clock read and the formatted second, kept while it lasts: formatting a
    datetime costs more than the rest of a row.
    """
    if connection.vendor != "sqlite" or connection.timezone is not UTC:
        return connection.ops.adapt_datetimefield_value(timezone.now())
    global _second
    second, nanoseconds = divmod(time.time_ns(), 1_000_000_000)
    held, text = _second  # one read: other threads may replace it meanwhile
    if second != held:
        text = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%d %H:%M:%S")
        _second = (second, text)
    # As str(datetime) writes it: no fraction in a whole second.
    if microseconds := nanoseconds // 1000:
        return f"{text}.{microseconds:06d}"
    return text


_second: tuple[int, str] = (-1, "")


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
    """Delete delivered rows older than ``days``; return how many.

    Tombstones that no longer hold the highest id go too (syncs.outbox_ids).
    """
    cutoff = timezone.now() - timedelta(days=days)
    deleted, _ = OutboxEvent.objects.filter(
        status=OutboxEvent.Status.DELIVERED, delivered_at__lt=cutoff
    ).delete()
    everything = OutboxEvent._base_manager
    if newest := everything.aggregate(newest=Max("pk"))["newest"]:
        everything.filter(status=OUTBOX_TOMBSTONE, pk__lt=newest).delete()
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
    from syncs.tasks import outbox_deliver  # tasks import this module

    for platform_id in targets:
        transaction.on_commit(partial(outbox_deliver.delay, platform_id), robust=True)
    return count
