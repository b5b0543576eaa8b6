"""Write side of the outbox: record a change in the same transaction as it."""

from datetime import datetime, timedelta
from functools import cache, partial, update_wrapper
from itertools import chain
from typing import NamedTuple

from django.core.exceptions import ImproperlyConfigured
from django.db import connections, models, router, transaction
from django.utils import timezone

from syncs.bindings import transformer_for
from syncs.identity import record_key_json
from syncs.models import OutboxEvent
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
    pk = str(record.pk)
    routes = [r for r in routes if not r.sync_ids or pk in r.sync_ids]
    if not routes:
        return
    now = timezone.now()
    rows = [
        _OutboxRow(
            sync_id=route.sync_id,
            target_platform_id=route.target_platform_id,
            event_type=event_type,
            object_pk=pk,
            object_key=record_key_json(record, route.identifier),
            created_at=now,
            next_attempt_at=_next_attempt_at(record, route, now),
        )
        for route in routes
    ]
    _outbox_write(rows)


def outbox_delivery_request_on_commit(*, targets: set[int], flags=None) -> None:
    """Ask for delivery to ``targets`` once the current transaction commits."""
    # Robust: the change is committed, so a broker that is down must not turn
    # the save into an error; the next commit asks again. (Django names the
    # callback when it logs the failure: give the partial a name.)
    request = update_wrapper(
        partial(_delivery_request, targets, flags), _delivery_request
    )
    transaction.on_commit(request, robust=True)


class _OutboxRow(NamedTuple):
    """The values of one new outbox row that differ from row to row."""

    sync_id: int
    target_platform_id: int
    event_type: str
    object_pk: str
    object_key: str  # JSON text
    created_at: datetime
    next_attempt_at: datetime


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
    columns = [*_OutboxRow._fields, *_NEW_ROW_CONSTANTS]
    if set(columns) != set(fields) - {OutboxEvent._meta.pk.attname}:
        raise ImproperlyConfigured(
            f"syncs.outbox writes the columns {sorted(columns)} but OutboxEvent "
            f"has {sorted(fields)}: update _OutboxRow or _NEW_ROW_CONSTANTS."
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


def _outbox_write(rows: list[_OutboxRow]) -> None:
    """Insert outbox rows; ask for delivery on commit where nobody asked yet.

    This runs on every save of a synced model, in the save's transaction, so
    it costs one statement: the insert and the read of the targets' flags
    together (shared-locked, see work_flags_sql); a set flag means the rows
    are seen by a drain to come. It skips the ORM's query building, and on
    SQLite Django's cursor wrapper too (see _fetch): together they cost more
    than the insert. On PostgreSQL, where the round trip is the cost, the
    statement rides with the next one or with COMMIT (mooxsync.db.postgresql).
    """
    connection = connections[router.db_for_write(OutboxEvent)]
    insert, one_row = _insert_sql(connection)
    params = _insert_params(connection, rows)
    targets = {row.target_platform_id for row in rows}
    names = [outbox_queue_name(target) for target in targets]
    if connection.vendor == "postgresql":
        values = ", ".join([one_row] * len(rows))
        flags = work_flags_sql(connection, len(names))
        sql = f"WITH written AS ({insert}{values}) {flags}"
        params = [*chain.from_iterable(params), *names]
        defer = getattr(connection, "statement_defer", None)
        if defer and connection.in_atomic_block and not connection.queries_logged:
            # The flags are read when the statement goes, so the request on
            # commit is always made and reads them then.
            outbox_delivery_request_on_commit(targets=targets, flags=defer(sql, params))
            return
        found = _fetch(connection, sql, params)
    elif len(rows) == 1:
        # SQLite: the insert hands back the flag too, in one statement.
        flag = work_flags_sql(connection, 1, columns="requested")
        sql = f"{insert}{one_row} RETURNING ({flag})"
        [(requested,)] = _fetch(connection, sql, [*params[0], *names])
        found = [(names[0], requested)]
    else:
        values = ", ".join([one_row] * len(rows))
        _fetch(connection, insert + values, list(chain.from_iterable(params)))
        found = _fetch(connection, work_flags_sql(connection, len(names)), names)
    requested = {name for name, flag in found if flag}
    if waiting := {t for t in targets if outbox_queue_name(t) not in requested}:
        outbox_delivery_request_on_commit(targets=waiting)


def _insert_params(connection, rows: list[_OutboxRow]) -> list[tuple]:
    """Return each row's values in _insert_sql's order, ready for the driver."""
    adapt_datetime = connection.ops.adapt_datetimefield_value
    params = []
    for row in rows:
        created_at = adapt_datetime(row.created_at)
        next_attempt_at = (
            created_at
            if row.next_attempt_at == row.created_at
            else adapt_datetime(row.next_attempt_at)
        )
        params.append((*row[:5], created_at, next_attempt_at, *_NEW_ROW_VALUES))
    return params


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
    connection.ensure_connection()
    with connection.wrap_database_errors:
        cursor = connection.connection.execute(_qmark(sql), params)
        try:
            return cursor.fetchall()
        finally:
            cursor.close()


@cache
def _qmark(sql: str) -> str:
    """Return ``sql`` with sqlite3's placeholders (ours hold no other %)."""
    return sql.replace("%s", "?")


def _next_attempt_at(record: models.Model, route: SyncRoute, now: datetime):
    """Return when the change may be delivered: now, unless a transformer delays."""
    if not route.uses_transformer:
        return now
    transformer = transformer_for(record._meta.label)
    delay = getattr(transformer, "delay", None)
    seconds = delay(record) if delay else 0
    return now + timedelta(seconds=seconds or 0)


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
