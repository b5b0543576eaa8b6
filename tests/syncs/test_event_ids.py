"""Events have their own id and version, apart from outbox pks (syncs.event_ids).

The target stores an event id once and skips a version no newer than the one
it applied, so neither may come back, whatever becomes of the outbox rows.
These tests run on whichever database the suite runs.
"""

import importlib
import time
from types import SimpleNamespace

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from syncs import event_ids
from syncs.event_ids import event_version_new
from syncs.models import OutboxEvent
from tests.factories import SyncFactory, UserFactory

pytestmark = pytest.mark.django_db


def _change(username: str) -> OutboxEvent:
    """Save a synced user; return the outbox row it wrote."""
    UserFactory(username=username)
    return OutboxEvent.objects.latest("pk")


def test_deleting_every_row_gives_no_id_or_version_again(user_sync):
    gone = [_change("ada"), _change("grace")]

    OutboxEvent.objects.all().delete()
    new = _change("alan")

    assert new.event_id not in {row.event_id for row in gone}
    assert new.version > max(row.version for row in gone)


def test_a_record_saved_again_gets_a_newer_version_and_another_id(user_sync):
    user = UserFactory(username="ada")
    first = OutboxEvent.objects.latest("pk")
    user.first_name = "Ada"
    user.save()
    second = OutboxEvent.objects.latest("pk")

    assert second.version > first.version
    assert second.event_id != first.event_id


def test_a_version_is_the_time_in_microseconds(monkeypatch):
    monkeypatch.setattr(event_ids, "_last_version", 0)  # none given before
    before = time.time_ns() // 1000

    version = event_version_new()

    assert before <= version <= time.time_ns() // 1000


def test_versions_still_grow_when_the_clock_steps_back(monkeypatch):
    # A process that has given no version yet; both are put back afterwards.
    monkeypatch.setattr(event_ids, "_last_version", 0)
    clock = iter([5_000_000_000, 4_000_000_000, 4_000_000_000])  # ns
    monkeypatch.setattr(event_ids.time, "time_ns", lambda: next(clock))

    versions = [event_version_new() for _ in range(3)]

    assert versions == [5_000_000, 5_000_001, 5_000_002]


@pytest.mark.django_db(transaction=True)
def test_migrating_keeps_the_ids_and_versions_rows_had_and_drops_tombstones(
    current_platform, target
):
    before = [("syncs", "0006_sync_fill")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old_apps = executor.loader.project_state(before).apps
    old = old_apps.get_model("syncs", "OutboxEvent")

    def row(status: str):
        return old.objects.create(
            target_platform_id=target.pk,
            event_type="created",
            object_pk="1",
            object_key=["ada"],
            status=status,
            next_attempt_at=timezone.now(),
        )

    pending, tombstone = row("pending"), row("tombstone")
    if connection.vendor == "sqlite":  # 0004's trigger, as a database that ran it has
        importlib.import_module(
            "syncs.migrations.0004_outbox_ids_without_autoincrement"
        ).protect(old_apps, SimpleNamespace(connection=connection))

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    kept = OutboxEvent.objects.get(pk=pending.pk)
    assert (kept.event_id, kept.version) == (str(pending.pk), pending.pk)
    assert not OutboxEvent.objects.filter(pk=tombstone.pk).exists()
    SyncFactory(source_platform=current_platform, target_platform=target)
    new = _change("grace")
    assert new.version > kept.version
    assert new.event_id != str(new.pk)
    OutboxEvent.objects.all().delete()  # no tombstone, no trigger left
    assert not OutboxEvent.objects.exists()
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT type FROM sqlite_master WHERE type = 'trigger'")
            assert cursor.fetchall() == []
