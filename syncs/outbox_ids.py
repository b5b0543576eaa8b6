"""Outbox ids that never come back, on SQLite without AUTOINCREMENT.

SQLite gives a new row the highest id in the table plus one (the table has
no AUTOINCREMENT, see OutboxIdField), so an id could only come back after
the row holding the highest one is deleted: by the purge, by the cascade of
a deleted sync or platform, in the admin, or by hand. A trigger puts a
tombstone in its place, a copy of the row with the status "tombstone" that
the default manager hides; it costs nothing on insert, where the outbox is
written on every save of a synced model. A tombstone that is no longer the
newest row may go (the purge takes it).

A table that Django rebuilds on SQLite (any later change to the model) loses
its triggers: ``outbox_ids_protect`` runs after every ``migrate`` to put it
back.
"""

from django.apps import apps as global_apps
from django.db import connections, router
from django.utils import timezone

from syncs.models import OUTBOX_TOMBSTONE, OutboxIdField

TRIGGER = "syncs_outbox_tombstone"


def outbox_ids_protect(model, connection) -> None:
    """Install the tombstone trigger on ``model``'s table, if SQLite holds it.

    Only on a table without AUTOINCREMENT (migrated back, it has it again).
    """
    if (
        connection.vendor != "sqlite"
        or not isinstance(model._meta.pk, OutboxIdField)
        or not router.allow_migrate_model(connection.alias, model)
    ):
        return
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = [quote(field.column) for field in model._meta.concrete_fields]
    status = quote(model._meta.get_field("status").column)
    values = [
        f"'{OUTBOX_TOMBSTONE}'" if column == status else f"OLD.{column}"
        for column in columns
    ]
    pk = quote(model._meta.pk.column)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER IF EXISTS {quote(TRIGGER)}")
        cursor.execute(
            f"CREATE TRIGGER {quote(TRIGGER)} AFTER DELETE ON {table} "
            f"WHEN OLD.{pk} > (SELECT coalesce(max({pk}), 0) FROM {table}) "
            f"BEGIN INSERT INTO {table} ({', '.join(columns)}) "
            f"VALUES ({', '.join(values)}); END"
        )


def outbox_ids_protect_after_migrate(using, apps=global_apps, **kwargs) -> None:
    """post_migrate receiver: (re)install the trigger on the migrated table.

    ``apps`` is the migrated state; flush sends the signal without it.
    """
    try:
        model = apps.get_model("syncs", "OutboxEvent")
    except LookupError:  # migrated back before the outbox
        return
    outbox_ids_protect(model, connections[using])


def outbox_ids_unprotect(connection) -> None:
    """Remove the trigger (migrating back to AUTOINCREMENT)."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(
                f"DROP TRIGGER IF EXISTS {connection.ops.quote_name(TRIGGER)}"
            )


def outbox_ids_counter_keep(model, connection) -> None:
    """Before the table loses AUTOINCREMENT: keep its counter as a tombstone.

    AUTOINCREMENT counts past rows deleted since; without it the count would
    restart from the highest id left. A tombstone at the counter carries it.
    """
    if connection.vendor != "sqlite":
        return
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_sequence'")
        if not cursor.fetchone():
            return
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        counter = cursor.fetchone()
        pk = connection.ops.quote_name(model._meta.pk.column)
        cursor.execute(
            f"SELECT coalesce(max({pk}), 0) FROM {connection.ops.quote_name(table)}"
        )
        (highest,) = cursor.fetchone()
    if counter and counter[0] > highest:
        model._base_manager.using(connection.alias).create(
            pk=counter[0],
            status=OUTBOX_TOMBSTONE,
            event_type="deleted",
            object_pk="",
            object_key=[],
            target_platform_id=0,
            next_attempt_at=timezone.now(),
        )
