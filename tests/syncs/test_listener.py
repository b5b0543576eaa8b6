import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.db import OperationalError, connection, connections, transaction
from django.utils import timezone

from syncs import outbox
from syncs.bindings import bindings_reset
from syncs.models import OutboxEvent, WorkQueue
from syncs.outbox import _delivery_request, outbox_queue_name
from syncs.registry import applying_from
from syncs.tasks import outbox_deliver
from tests.factories import PlatformFactory, SyncFactory, UserFactory

pytestmark = pytest.mark.django_db


class DelayedTransformer:
    """Send users as their username only, half a minute after the change."""

    def transform(self, record) -> dict:
        return {"username": record.username}

    def delay(self, record) -> int:
        return 30


@pytest.fixture
def other_target(db):
    return PlatformFactory(name="C", domain="c.test")


def _rows() -> list[tuple]:
    """Return (event_type, object_key, target domain) of outbox rows, oldest first."""
    rows = OutboxEvent.objects.order_by("pk")
    return [
        (row.event_type, row.object_key, row.target_platform.domain) for row in rows
    ]


def _delivery_requests(callbacks) -> list[set[int]]:
    """Return the target platform ids of each delivery request among callbacks."""
    return [
        callback.args[0]
        for callback in callbacks
        if getattr(callback, "func", None) is _delivery_request
    ]


def test_created_user_writes_one_outbox_row_per_active_sync(
    current_platform, target, other_target
):
    to_b = SyncFactory(source_platform=current_platform, target_platform=target)
    to_c = SyncFactory(source_platform=current_platform, target_platform=other_target)

    user = UserFactory(username="ada")

    assert _rows() == [
        ("created", ["ada"], "b.test"),
        ("created", ["ada"], "c.test"),
    ]
    rows = OutboxEvent.objects.order_by("pk")
    assert [row.sync_id for row in rows] == [to_b.pk, to_c.pk]
    assert {row.object_pk for row in rows} == {str(user.pk)}
    assert {row.status for row in rows} == {OutboxEvent.Status.PENDING}
    assert all(row.next_attempt_at <= timezone.now() for row in rows)


def test_rows_are_written_in_the_change_transaction_and_delivery_waits_for_commit(
    django_capture_on_commit_callbacks, user_sync, other_target, current_platform
):
    SyncFactory(source_platform=current_platform, target_platform=other_target)

    with (
        django_capture_on_commit_callbacks(execute=False) as callbacks,
        transaction.atomic(),
    ):
        UserFactory(username="ada")
        # Visible before the commit: written by the change's own transaction.
        assert OutboxEvent.objects.count() == 2

    assert _delivery_requests(callbacks) == [
        {user_sync.target_platform_id, other_target.pk}
    ]


def test_updated_user_writes_an_update_row(user_sync):
    user = UserFactory(username="ada")

    user.first_name = "Ada"
    user.save()

    assert _rows() == [
        ("created", ["ada"], "b.test"),
        ("updated", ["ada"], "b.test"),
    ]


def test_deleted_user_writes_a_delete_row_with_its_key(user_sync):
    user = UserFactory(username="ada")
    pk = user.pk

    user.delete()

    assert _rows() == [
        ("created", ["ada"], "b.test"),
        ("deleted", ["ada"], "b.test"),
    ]
    assert OutboxEvent.objects.latest("pk").object_pk == str(pk)


def test_each_committed_change_asks_for_delivery_once_per_target(
    django_capture_on_commit_callbacks, user_sync
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        UserFactory(username="ada")

    assert _delivery_requests(callbacks) == [{user_sync.target_platform_id}]


def test_rolled_back_change_sends_nothing(
    django_capture_on_commit_callbacks, user_sync
):
    with (
        django_capture_on_commit_callbacks(execute=False) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        UserFactory(username="ada")
        raise RuntimeError("roll back")

    assert not User.objects.filter(username="ada").exists()
    assert OutboxEvent.objects.count() == 0
    assert _delivery_requests(callbacks) == []


def test_broker_down_after_commit_keeps_the_change_and_the_next_commit_asks_again(
    django_capture_on_commit_callbacks, monkeypatch, user_sync
):
    def broker_down(platform_id: int) -> None:
        raise ConnectionError("broker down")

    monkeypatch.setattr(outbox_deliver, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        UserFactory(username="ada")  # the committed save does not fail

    assert User.objects.filter(username="ada").exists()
    queue = WorkQueue.objects.get(name=outbox_queue_name(user_sync.target_platform_id))
    assert queue.requested is False

    published = []
    monkeypatch.setattr(outbox_deliver, "delay", published.append)
    with django_capture_on_commit_callbacks(execute=True):
        UserFactory(username="bob")

    assert published == [user_sync.target_platform_id]
    assert OutboxEvent.objects.count() == 2


def test_loaddata_raw_saves_are_ignored(user_sync, tmp_path):
    fixture = tmp_path / "users.json"
    fixture.write_text(
        json.dumps(
            [
                {
                    "model": "auth.user",
                    "pk": 9001,
                    "fields": {"username": "loaded", "password": "!"},
                }
            ]
        )
    )

    call_command("loaddata", str(fixture), verbosity=0)

    assert User.objects.filter(username="loaded").exists()
    assert OutboxEvent.objects.count() == 0


def test_models_not_synced_record_nothing(user_sync):
    Group.objects.create(name="editors")
    PlatformFactory()

    assert OutboxEvent.objects.count() == 0


def test_no_active_sync_records_nothing(user_sync):
    user_sync.status = False
    user_sync.save()

    UserFactory(username="ada")

    assert OutboxEvent.objects.count() == 0


def test_adding_removing_and_clearing_user_groups_records_user_updates(user_sync):
    user = UserFactory(username="ada")
    editors = Group.objects.create(name="editors")
    OutboxEvent.objects.all().delete()

    user.groups.add(editors)
    assert _rows() == [("updated", ["ada"], "b.test")]

    user.groups.remove(editors)
    assert len(_rows()) == 2

    user.groups.add(editors)
    user.groups.clear()
    assert _rows() == [("updated", ["ada"], "b.test")] * 4


def test_editing_group_user_set_records_updates_of_the_affected_users(user_sync):
    ada, bob, _carl = (UserFactory(username=name) for name in ("ada", "bob", "carl"))
    editors = Group.objects.create(name="editors")
    OutboxEvent.objects.all().delete()

    editors.user_set.add(ada, bob)
    assert sorted(key for _, key, _ in _rows()) == [["ada"], ["bob"]]

    OutboxEvent.objects.all().delete()
    editors.user_set.remove(bob)
    assert _rows() == [("updated", ["bob"], "b.test")]


def test_clearing_group_user_set_records_updates_of_the_users_it_had(user_sync):
    ada, bob, _carl = (UserFactory(username=name) for name in ("ada", "bob", "carl"))
    editors = Group.objects.create(name="editors")
    editors.user_set.add(ada, bob)
    OutboxEvent.objects.all().delete()

    editors.user_set.clear()

    assert sorted(key for _, key, _ in _rows()) == [["ada"], ["bob"]]
    assert {event_type for event_type, _, _ in _rows()} == {"updated"}
    assert not ada.groups.exists()


def test_sync_ids_restrict_which_records_are_recorded(current_platform, target):
    ada, bob = UserFactory(username="ada"), UserFactory(username="bob")
    SyncFactory(
        source_platform=current_platform, target_platform=target, sync_ids=[ada.pk]
    )

    ada.save()
    bob.save()
    Group.objects.create(name="editors").user_set.add(ada, bob)

    assert _rows() == [("updated", ["ada"], "b.test")] * 2


def test_change_applied_from_a_platform_is_recorded_only_for_other_targets(
    current_platform, target, other_target
):
    SyncFactory(source_platform=current_platform, target_platform=target)
    SyncFactory(source_platform=current_platform, target_platform=other_target)

    with applying_from(target.pk):
        UserFactory(username="ada")

    assert _rows() == [("created", ["ada"], "c.test")]


def test_model_matched_by_uuid_records_its_key_as_a_string(current_platform, target):
    SyncFactory(
        source_platform=current_platform,
        target_platform=target,
        source_model="platforms.Platform",
        target_model="platforms.Platform",
    )

    platform = PlatformFactory(name="D", domain="d.test")

    assert _rows() == [("created", str(platform.uuid), "b.test")]


def test_transformer_delay_postpones_delivery_of_the_change(
    settings, current_platform, target, other_target
):
    settings.SYNC_TRANSFORMER_BINDINGS = {
        "auth.User": "tests.syncs.test_listener.DelayedTransformer"
    }
    bindings_reset()
    delayed = SyncFactory(
        source_platform=current_platform,
        target_platform=target,
        use_transformer_class=True,
    )
    SyncFactory(source_platform=current_platform, target_platform=other_target)

    before = timezone.now()
    UserFactory(username="ada")
    after = timezone.now()

    rows = {row.sync_id: row for row in OutboxEvent.objects.all()}
    waits = {sync_id: row.next_attempt_at - before for sync_id, row in rows.items()}
    assert (
        timedelta(seconds=30)
        <= waits[delayed.pk]
        <= timedelta(seconds=30) + (after - before)
    )
    assert all(
        row.next_attempt_at <= after
        for sync_id, row in rows.items()
        if sync_id != delayed.pk
    )


def test_outbox_row_times_are_the_time_of_the_save(user_sync):
    before = timezone.now()
    UserFactory(username="ada")
    after = timezone.now()

    row = OutboxEvent.objects.get()
    assert before <= row.next_attempt_at <= row.created_at <= after


# How a second connection gives up at once on a row lock instead of waiting.
_LOCK_WAIT_SHORT = {
    "postgresql": "SET lock_timeout = '200ms'",
    "mysql": "SET SESSION innodb_lock_wait_timeout = 1",
}


@pytest.mark.skipif(
    connection.vendor not in _LOCK_WAIT_SHORT,
    reason="SQLite's single write lock holds every other writer off already",
)
@pytest.mark.django_db(transaction=True)
def test_a_worker_cannot_clear_the_flag_a_save_read_until_the_save_commits(
    user_sync,
):
    # Else the worker's drain after the clear could miss the save's row while
    # the save, which found the flag set, asks for no delivery.
    name = outbox_queue_name(user_sync.target_platform_id)
    WorkQueue.objects.create(name=name, requested=True)
    worker = connections.create_connection("default")
    try:
        with transaction.atomic():
            UserFactory(username="ada")
            with worker.cursor() as cursor:
                cursor.execute(_LOCK_WAIT_SHORT[connection.vendor])
                with pytest.raises(OperationalError):
                    cursor.execute(
                        "UPDATE syncs_workqueue SET requested = %s WHERE name = %s",
                        [False, name],
                    )
    finally:
        worker.close()

    assert WorkQueue.objects.get(name=name).requested is True


def test_the_outbox_insert_writes_every_column_but_the_id_and_the_delivery_time():
    # A column added to OutboxEvent must be added to the listener's insert.
    columns = {field.column for field in OutboxEvent._meta.concrete_fields}

    assert set(outbox._COLUMNS) == columns - {"id", "delivered_at"}
