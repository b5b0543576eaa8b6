"""Outbox ids never come back (syncs.outbox_ids, OutboxIdField).

An outbox id is an event's id and version on the wire, so every way a row
can go must leave the next id above it. These tests delete the newest row
in each of those ways and check the next change's id, on whichever database
the suite runs (SQLite keeps ids with a trigger, PostgreSQL with a sequence,
MySQL/MariaDB with InnoDB's AUTO_INCREMENT, kept across restarts since
MariaDB 10.2.4 and MySQL 8.0).
"""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from syncs.models import OUTBOX_TOMBSTONE, OutboxEvent
from syncs.outbox import outbox_delivered_purge
from syncs.outbox_ids import TRIGGER, outbox_ids_protect_after_migrate
from tests.factories import SyncFactory, UserFactory

pytestmark = pytest.mark.django_db

sqlite_only = pytest.mark.skipif(
    connection.vendor != "sqlite",
    reason="SQLite's own way to keep ids; sequences and AUTO_INCREMENT never go back",
)


def _newest_id() -> int:
    return OutboxEvent.objects.latest("pk").pk


def _change(username: str) -> int:
    """Save a synced user; return the id of the outbox row it wrote."""
    UserFactory(username=username)
    return _newest_id()


def test_deleting_the_newest_row_does_not_give_its_id_again(user_sync):
    _change("ada")
    gone = _change("grace")

    OutboxEvent.objects.filter(pk=gone).delete()

    assert _change("alan") > gone


def test_deleting_every_row_does_not_restart_the_ids(user_sync):
    gone = [_change("ada"), _change("grace")]

    OutboxEvent.objects.all().delete()

    assert not OutboxEvent.objects.exists()  # a tombstone is not a row to see
    assert _change("alan") > max(gone)


def test_deleting_the_sync_does_not_give_its_newest_id_again(
    user_sync, current_platform, target
):
    gone = _change("ada")

    user_sync.delete()  # its rows go with it
    SyncFactory(source_platform=current_platform, target_platform=target)

    assert not OutboxEvent.objects.filter(pk=gone).exists()
    assert _change("grace") > gone


def test_purge_of_the_newest_row_does_not_give_its_id_again(user_sync):
    gone = _change("ada")
    OutboxEvent.objects.filter(pk=gone).update(
        status=OutboxEvent.Status.DELIVERED,
        delivered_at=timezone.now() - timedelta(days=30),
    )

    assert outbox_delivered_purge(days=7) == 1

    assert _change("grace") > gone


@sqlite_only
def test_a_tombstone_is_left_only_for_the_newest_row_and_purged_once_passed(
    user_sync,
):
    older, newest = _change("ada"), _change("grace")
    tombstones = OutboxEvent._base_manager.filter(status=OUTBOX_TOMBSTONE)

    OutboxEvent.objects.filter(pk=older).delete()
    assert not tombstones.exists()

    OutboxEvent.objects.filter(pk=newest).delete()
    assert list(tombstones.values_list("pk", flat=True)) == [newest]
    OutboxEvent._base_manager.filter(pk=newest).delete()  # it stays: still newest
    assert list(tombstones.values_list("pk", flat=True)) == [newest]

    _change("alan")
    outbox_delivered_purge(days=7)
    assert not tombstones.exists()


@sqlite_only
def test_sqlite_outbox_has_no_autoincrement_and_has_the_trigger():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = %s",
            [OutboxEvent._meta.db_table],
        )
        found = {(kind, name): sql for kind, name, sql in cursor.fetchall()}

    assert "AUTOINCREMENT" not in found["table", OutboxEvent._meta.db_table].upper()
    assert ("trigger", TRIGGER) in found


@sqlite_only
def test_migrate_puts_back_a_trigger_a_table_rebuild_dropped():
    with connection.cursor() as cursor:
        cursor.execute(f'DROP TRIGGER "{TRIGGER}"')

    outbox_ids_protect_after_migrate(
        using=connection.alias,
        apps=MigrationExecutor(connection).loader.project_state().apps,
    )

    assert _trigger_installed()


def _trigger_installed() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM sqlite_master WHERE name = %s", [TRIGGER])
        return cursor.fetchone() is not None


@sqlite_only
@pytest.mark.django_db(transaction=True)
def test_migrating_an_outbox_keeps_the_autoincrement_counter(current_platform, target):
    before = [("syncs", "0003_outbox_without_constraints")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old_state = executor.loader.project_state(before).apps
    # Back on AUTOINCREMENT, the trigger is gone and migrate leaves it gone.
    outbox_ids_protect_after_migrate(using=connection.alias, apps=old_state)
    assert not _trigger_installed()
    old = old_state.get_model("syncs", "OutboxEvent")
    rows = [
        old.objects.create(
            target_platform_id=target.pk,
            event_type="created",
            object_pk=str(n),
            object_key=[str(n)],
            next_attempt_at=timezone.now(),
        )
        for n in range(3)
    ]
    old.objects.filter(pk__in=[rows[1].pk, rows[2].pk]).delete()  # counter: rows[2]

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    # (Earlier tests' flushes may have left tombstones below these rows.)
    tombstones = OutboxEvent._base_manager.filter(
        status=OUTBOX_TOMBSTONE, pk__gte=rows[0].pk
    )
    assert list(tombstones.values_list("pk", flat=True)) == [rows[2].pk]
    SyncFactory(source_platform=current_platform, target_platform=target)
    assert _change("ada") > rows[2].pk
