"""sync_backup: find the drift against a target, repair it through the outbox."""

import json

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection

from platforms.models import PlatformRelation
from syncs.backup.compare import Drift
from syncs.backup.errors import BackupError
from syncs.backup.services import sync_backup
from syncs.models import OutboxEvent, SyncFill, WorkQueue
from syncs.outbox import _delivery_request
from syncs.payload import envelope_build
from tests.factories import PlatformFactory, SyncFactory, UserFactory
from tests.syncs.backup_target import MemoryTarget

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_listener(settings):
    """Drift is what no signal saw: keep the listener out of these tests."""
    settings.SYNC_LISTENER_ENABLED = False


@pytest.fixture
def target_platform(db):
    return PlatformFactory(name="B", domain="b.test")


@pytest.fixture
def user_sync(current_platform, target_platform):
    return SyncFactory(
        source_platform=current_platform, target_platform=target_platform
    )


@pytest.fixture
def users(db):
    editors = Group.objects.create(name="editors")
    made = [UserFactory(username=f"user{i:03d}") for i in range(60)]
    made[0].groups.add(editors)
    return made


def _rows() -> list[tuple]:
    rows = OutboxEvent.objects.order_by("pk")
    return [(row.event_type, row.object_key, row.object_pk) for row in rows]


def _backup(sync, target, **kwargs):
    return sync_backup(sync=sync, client=target, **kwargs)


def test_equal_tables_send_no_repair_and_only_two_requests(user_sync, users):
    target = MemoryTarget.copy_of("auth.User")

    report = _backup(user_sync, target)

    assert (report.checked, report.unchanged) == (60, 60)
    assert (report.created, report.updated, report.deleted) == (0, 0, 0)
    assert report.buckets_differing == 0
    assert [asked["op"] for asked in target.asked] == ["plan", "buckets"]
    assert report.exchange_requests == 2 and report.exchange_bytes > 0
    assert (report.repair_webhooks, report.repair_bytes) == (0, 0)
    assert not OutboxEvent.objects.exists()


def test_drift_without_signals_is_repaired_through_the_outbox(
    user_sync, users, django_capture_on_commit_callbacks
):
    target = MemoryTarget.copy_of("auth.User")
    User.objects.filter(username="user001").update(email="changed@a.test")
    User.objects.bulk_create([User(username="newcomer", password="!")])
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM auth_user WHERE username = 'user002'")
    target.drop(["user003"])  # lost on the target

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        report = _backup(user_sync, target)

    newcomer = User.objects.get(username="newcomer")
    assert sorted(_rows()) == sorted(
        [
            ("created", ["newcomer"], str(newcomer.pk)),
            ("created", ["user003"], str(users[3].pk)),
            ("updated", ["user001"], str(users[1].pk)),
            ("deleted", ["user002"], ""),
        ]
    )
    assert (report.checked, report.created, report.updated, report.deleted) == (
        60,
        2,
        1,
        1,
    )
    assert report.unchanged == 57
    assert set(OutboxEvent.objects.values_list("status", flat=True)) == {"pending"}
    assert set(OutboxEvent.objects.values_list("sync_id", flat=True)) == {user_sync.pk}
    requests = [c for c in callbacks if getattr(c, "func", None) is _delivery_request]
    assert [c.args[0] for c in requests] == [{user_sync.target_platform_id}]


def test_repair_size_is_the_size_of_the_webhook_bodies(
    user_sync, users, current_platform, target_platform
):
    target = MemoryTarget.copy_of("auth.User")
    User.objects.filter(username__in=["user001", "user002"]).update(first_name="X")

    report = _backup(user_sync, target)

    rows = list(OutboxEvent.objects.select_related("sync").order_by("pk"))
    body = envelope_build(source=current_platform, target=target_platform, rows=rows)
    assert (report.repair_webhooks, report.repair_bytes) == (1, len(body))
    assert report.bytes_total == report.exchange_bytes + report.repair_bytes


def test_dry_run_reports_the_drift_and_writes_nothing(
    user_sync, users, django_capture_on_commit_callbacks
):
    target = MemoryTarget.copy_of("auth.User")
    User.objects.filter(username="user001").update(email="changed@a.test")
    target.drop(["user004"])

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        report = _backup(user_sync, target, dry_run=True)

    assert report.dry_run
    assert (report.created, report.updated, report.deleted) == (1, 1, 0)
    assert report.repair_webhooks == 1 and report.repair_bytes > 0
    assert not OutboxEvent.objects.exists()
    assert not callbacks
    assert not WorkQueue.objects.filter(name__startswith="backup:").exists()


def test_many_to_many_drift_is_found_and_order_does_not_count(user_sync, users):
    writers = Group.objects.create(name="writers")
    users[5].groups.add(writers)
    users[6].groups.add(writers)
    target = MemoryTarget.copy_of("auth.User")
    # The same groups in another order on the target: no drift.
    fields = target.fields_of(["user000"])
    target.put(["user000"], fields | {"groups": list(reversed(fields["groups"]))})
    users[6].groups.clear()  # through the m2m manager; the listener is off

    report = _backup(user_sync, target)

    assert _rows() == [("updated", ["user006"], str(users[6].pk))]
    assert report.updated == 1


def test_only_mapped_fields_are_compared(user_sync, users):
    user_sync.sync_all_fields = False
    user_sync.field_mappings = {"email": "email", "username": "username"}
    user_sync.save()
    target = MemoryTarget.copy_of("auth.User")
    User.objects.filter(username="user001").update(first_name="not sent")
    User.objects.filter(username="user002").update(email="sent@a.test")

    _backup(user_sync, target)

    assert target.asked[0]["fields"] == ["email", "username"]
    assert _rows() == [("updated", ["user002"], str(users[2].pk))]


def test_renamed_fields_compare_under_the_target_name(user_sync, users):
    user_sync.field_mappings = {"first_name": "last_name"}
    user_sync.save()
    target = MemoryTarget.copy_of("auth.User")
    for key in (["user001"], ["user002"]):
        fields = target.fields_of(key)
        target.put(key, fields | {"last_name": "Ada"})
    User.objects.filter(username="user001").update(first_name="Ada")

    _backup(user_sync, target)

    assert "first_name" not in target.asked[0]["fields"]
    assert _rows() == [("updated", ["user002"], str(users[2].pk))]


def test_swapped_fields_compare_under_the_target_names(user_sync, users):
    user_sync.field_mappings = {"first_name": "last_name", "last_name": "first_name"}
    user_sync.save()
    User.objects.update(first_name="Ada", last_name="Lovelace")
    target = MemoryTarget.copy_of("auth.User")
    for key in list(target.records):
        fields = target.records[key]
        target.records[key] = fields | {"first_name": "Lovelace", "last_name": "Ada"}
    User.objects.filter(username="user001").update(first_name="Augusta")

    _backup(user_sync, target)

    assert _rows() == [("updated", ["user001"], str(users[1].pk))]


def test_sync_ids_restrict_the_records_and_delete_nothing(user_sync, users):
    user_sync.sync_ids = [users[1].pk, users[2].pk]
    user_sync.save()
    target = MemoryTarget.copy_of("auth.User")
    User.objects.update(email="everyone@a.test")

    report = _backup(user_sync, target)

    assert report.checked == 2
    assert sorted(_rows()) == [
        ("updated", ["user001"], str(users[1].pk)),
        ("updated", ["user002"], str(users[2].pk)),
    ]


def test_records_not_related_to_the_target_are_deleted_there(
    user_sync, users, target_platform
):
    user_sync.use_platform_relations = True
    user_sync.save()
    for user in users[:59]:
        PlatformRelation.objects.create(record=user, platform=target_platform)
    target = MemoryTarget.copy_of("auth.User")  # relations travel with records

    report = _backup(user_sync, target)

    assert report.checked == 59
    assert _rows() == [("deleted", ["user059"], "")]


def test_platform_relations_changed_behind_the_listener_are_repaired(
    user_sync, users, target_platform, settings, current_platform
):
    settings.SYNC_MODELS_WITH_PLATFORM_RELATIONS = ["auth.User"]
    for user in users[:5]:
        PlatformRelation.objects.create(record=user, platform=target_platform)
    target = MemoryTarget.copy_of("auth.User")
    PlatformRelation.objects.filter(object_id=str(users[0].pk)).delete()
    PlatformRelation.objects.bulk_create(
        [PlatformRelation(record=users[10], platform=current_platform)]
    )

    report = _backup(user_sync, target)

    assert (report.created, report.updated, report.deleted) == (0, 2, 0)
    rows = list(OutboxEvent.objects.order_by("pk"))
    body = envelope_build(source=current_platform, target=target_platform, rows=rows)
    sent = {event["key"][0]: event["platforms"] for event in json.loads(body)["events"]}
    assert sent == {"user000": [], "user010": [current_platform.domain]}


def test_auto_now_fields_are_not_compared(current_platform, target_platform):
    from demoapp.models import Document

    sync = SyncFactory(
        source_platform=current_platform,
        target_platform=target_platform,
        source_model="demoapp.Document",
        target_model="demoapp.Document",
    )
    Document.objects.create(slug="a", title="A")
    target = MemoryTarget.copy_of("demoapp.Document")
    Document.objects.update(updated_at="2020-01-01T00:00:00Z")

    report = _backup(sync, target)

    assert "updated_at" not in target.asked[0]["fields"]
    assert report.unchanged == 1 and not OutboxEvent.objects.exists()


def test_a_refusing_target_stops_the_backup_and_writes_nothing(user_sync, users):
    target = MemoryTarget("auth.User")
    target.refuse_with = "http://b.test answered 403: model_not_allowed"

    with pytest.raises(BackupError, match="model_not_allowed"):
        _backup(user_sync, target)

    assert not OutboxEvent.objects.exists()


def test_malformed_bucket_digests_are_a_backup_error(user_sync, users):
    target = MemoryTarget.copy_of("auth.User")
    target._buckets = lambda payload: {"digests": "not base64!"}

    with pytest.raises(BackupError, match="malformed"):
        _backup(user_sync, target)


def test_a_sync_from_another_platform_is_refused(target_platform, users):
    sync = SyncFactory(source_platform=target_platform)

    with pytest.raises(BackupError, match="does not send from this platform"):
        _backup(sync, MemoryTarget("auth.User"))


def test_unchanged_counts_the_records_neither_created_nor_updated():
    drift = Drift(checked=10)
    drift.created = [object()]
    drift.updated = [object(), object()]
    drift.deleted = ["gone"]
    assert drift.unchanged == 7


def test_malformed_record_lists_are_a_backup_error(user_sync, users):
    target = MemoryTarget.copy_of("auth.User")
    User.objects.filter(username="user001").update(email="changed@a.test")
    target._records = lambda payload: {"records": ["not", "a", "dict"]}

    with pytest.raises(BackupError, match="malformed"):
        _backup(user_sync, target)

    assert not OutboxEvent.objects.exists()


def test_repair_events_carry_current_data_and_deletes_by_key(
    user_sync, users, current_platform, target_platform
):
    target = MemoryTarget.copy_of("auth.User")
    User.objects.filter(username="user001").update(email="changed@a.test")
    target.put(["stranger"], target.fields_of(["user002"]) | {"username": "stranger"})

    _backup(user_sync, target)

    rows = list(OutboxEvent.objects.select_related("sync").order_by("pk"))
    body = envelope_build(source=current_platform, target=target_platform, rows=rows)
    events = {tuple(e["key"]): e for e in json.loads(body)["events"]}
    assert events[("user001",)]["type"] == "updated"
    assert events[("user001",)]["data"]["email"] == "changed@a.test"
    assert events[("stranger",)]["type"] == "deleted"
    assert events[("stranger",)]["should_delete"] is True


def test_an_empty_target_gets_the_initial_fill_instead_of_a_repair(user_sync, users):
    target = MemoryTarget("auth.User")
    SyncFill.objects.filter(pk=user_sync.pk).delete()

    report = _backup(user_sync, target)

    assert report.filled and (report.checked, report.created) == (60, 60)
    assert [asked["op"] for asked in target.asked] == ["plan"]
    assert "holds no records; started its initial fill of 60" in report.as_text()
    assert SyncFill.objects.get(pk=user_sync.pk).status == SyncFill.Status.RUNNING
    assert not OutboxEvent.objects.exists()  # the fill sends, page by page


def test_an_empty_targets_dry_run_starts_no_fill(user_sync, users):
    SyncFill.objects.filter(pk=user_sync.pk).delete()

    report = _backup(user_sync, MemoryTarget("auth.User"), dry_run=True)

    assert report.filled and report.created == 60
    assert "would start its initial fill" in report.as_text()
    assert not SyncFill.objects.exists()
