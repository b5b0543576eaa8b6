"""Write-ahead intents: an autocommit save's change survives its process's death."""

from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models.signals import post_save, pre_save
from django.utils import timezone

from syncs.models import OutboxEvent
from syncs.outbox import outbox_retry, outbox_targets_due
from syncs.outbox_intents import outbox_intents_recover
from syncs.signals import record_saved
from syncs.tasks import outbox_deliver, outbox_relay
from tests.factories import SyncFactory, UserFactory

# Autocommit is the point: the default test would wrap every save in atomic().
pytestmark = pytest.mark.django_db(transaction=True)

INTENT = OutboxEvent.Status.INTENT
PENDING = OutboxEvent.Status.PENDING


@pytest.fixture
def published(monkeypatch) -> list[int]:
    """The targets whose delivery was published to the broker."""
    sent: list[int] = []
    monkeypatch.setattr(outbox_deliver, "delay", sent.append)
    return sent


def _rows() -> list[tuple]:
    """Return (status, event_type, object_pk, object_key) of outbox rows, by id."""
    return list(
        OutboxEvent.objects.order_by("pk").values_list(
            "status", "event_type", "object_pk", "object_key"
        )
    )


@contextmanager
def _during_save(username: str, receiver, signal=pre_save):
    """Run ``receiver`` in the save of ``username``, after the listener's own."""

    def spy(sender, instance, **kwargs):
        if sender is User and instance.username == username:
            receiver(instance)

    signal.connect(spy, weak=False, dispatch_uid="test.during_save")
    try:
        yield
    finally:
        signal.disconnect(dispatch_uid="test.during_save")


@contextmanager
def _before_post_save(receiver):
    """Run ``receiver`` between a save's commit and the listener's post_save."""
    post_save.disconnect(dispatch_uid="mooxsync.record_saved")
    post_save.connect(receiver, weak=False, dispatch_uid="test.before_post_save")
    post_save.connect(record_saved, dispatch_uid="mooxsync.record_saved")
    try:
        yield
    finally:
        post_save.disconnect(dispatch_uid="test.before_post_save")


@contextmanager
def _post_save_lost():
    """Save as a process does that dies between its commit and post_save."""
    post_save.disconnect(dispatch_uid="mooxsync.record_saved")
    try:
        yield
    finally:
        post_save.connect(record_saved, dispatch_uid="mooxsync.record_saved")


def _intents_age(seconds: float = 3600) -> None:
    """Make the intents look ``seconds`` old (past SYNC_INTENT_TIMEOUT)."""
    then = timezone.now() - timedelta(seconds=seconds)
    OutboxEvent.objects.filter(status=INTENT).update(created_at=then)


def test_autocommit_save_writes_an_undrained_intent_then_a_pending_row(
    user_sync, published
):
    seen = []
    with _during_save("ada", lambda user: seen.append((_rows(), outbox_targets_due()))):
        user = User.objects.create(username="ada")

    assert seen == [([(INTENT, "created", "", ["ada"])], [])]
    assert _rows() == [(PENDING, "created", str(user.pk), ["ada"])]
    assert published == [user_sync.target_platform_id]
    assert not hasattr(user, "_mooxsync_intents")


def test_autocommit_update_intent_knows_its_pk(user_sync, published):
    user = UserFactory(username="ada")
    OutboxEvent.objects.all().delete()
    seen = []
    with _during_save("ada", lambda user: seen.append(_rows())):
        user.email = "ada@b.test"
        user.save()

    assert seen == [[(INTENT, "updated", str(user.pk), ["ada"])]]
    assert _rows() == [(PENDING, "updated", str(user.pk), ["ada"])]


def test_save_inside_atomic_writes_no_intent(user_sync, published):
    seen = []
    with _during_save("ada", lambda user: seen.append(_rows())), transaction.atomic():
        user = User.objects.create(username="ada")

    assert seen == [[]]
    assert _rows() == [(PENDING, "created", str(user.pk), ["ada"])]


def test_failed_create_leaves_an_intent_that_recovery_deletes(user_sync, published):
    with pytest.raises(IntegrityError):
        User(username="ada", password=None).save()  # password is NOT NULL

    assert _rows() == [(INTENT, "created", "", ["ada"])]
    assert outbox_intents_recover() == 0  # too young: its save may still run
    _intents_age()
    assert outbox_intents_recover() == 1
    assert _rows() == []
    assert published == []


def test_failed_create_of_a_taken_key_resends_the_record_holding_it(user_sync):
    ada = UserFactory(username="ada", email="ada@a.test")
    OutboxEvent.objects.all().delete()
    with pytest.raises(IntegrityError):
        User.objects.create(username="ada")  # taken

    _intents_age()
    outbox_intents_recover()

    # The key names the existing record: its current state goes again, harmless.
    assert _rows() == [(PENDING, "created", str(ada.pk), ["ada"])]


def test_failed_update_to_a_taken_key_resends_the_record_with_its_own_key(
    user_sync,
):
    UserFactory(username="bob")
    ada = UserFactory(username="ada")
    OutboxEvent.objects.all().delete()
    ada.username = "bob"
    with pytest.raises(IntegrityError):
        ada.save()
    assert _rows() == [(INTENT, "updated", str(ada.pk), ["bob"])]

    _intents_age()
    outbox_intents_recover()

    # Found by its pk, under the key it still has: "bob" never committed.
    assert _rows() == [(PENDING, "updated", str(ada.pk), ["ada"])]


def test_relay_recovers_a_create_whose_process_died_after_commit(user_sync, published):
    with _post_save_lost():
        user = User.objects.create(username="ada")
    assert _rows() == [(INTENT, "created", "", ["ada"])]
    assert outbox_relay() == 0

    _intents_age()
    assert outbox_relay() == 1

    assert _rows() == [(PENDING, "created", str(user.pk), ["ada"])]
    assert published == [user_sync.target_platform_id]


def test_relay_recovers_an_update_whose_process_died_after_commit(user_sync, published):
    user = UserFactory(username="ada")
    OutboxEvent.objects.all().delete()
    user.email = "new@a.test"
    with _post_save_lost():
        user.save()

    _intents_age()
    outbox_relay()

    assert _rows() == [(PENDING, "updated", str(user.pk), ["ada"])]


def test_recovery_drops_an_intent_whose_record_was_deleted_since(user_sync):
    with _post_save_lost():
        user = User.objects.create(username="ada")
    pk = str(user.pk)
    user.delete()

    _intents_age()
    outbox_intents_recover()

    # Nothing on the intent's behalf: the delete sends its own row.
    assert _rows() == [(PENDING, "deleted", pk, ["ada"])]


def test_sync_ids_drop_intents_of_records_outside_them(current_platform, target):
    inside = UserFactory(username="inside")
    outside = UserFactory(username="outside")
    SyncFactory(
        source_platform=current_platform, target_platform=target, sync_ids=[inside.pk]
    )

    outside.save()  # a known pk outside sync_ids: not even an intent
    assert _rows() == []
    inside.save()
    assert _rows() == [(PENDING, "updated", str(inside.pk), ["inside"])]
    OutboxEvent.objects.all().delete()
    User.objects.create(username="new")  # its pk is known after the insert only
    assert _rows() == []


def test_recovery_applies_sync_ids(current_platform, target):
    SyncFactory(source_platform=current_platform, target_platform=target, sync_ids=[0])
    with _post_save_lost():
        User.objects.create(username="ada")
    assert _rows() == [(INTENT, "created", "", ["ada"])]

    _intents_age()
    outbox_intents_recover()

    assert _rows() == []


def test_intent_recovered_before_post_save_still_gets_a_fresh_row(user_sync, published):
    def recover_now(sender, instance, **kwargs):
        if sender is User:  # a slow save: recovery ran between commit and here
            _intents_age()
            outbox_intents_recover()

    with _before_post_save(recover_now):
        user = User.objects.create(username="ada")

    rows = OutboxEvent.objects.order_by("pk")
    assert _rows() == [(PENDING, "created", str(user.pk), ["ada"])] * 2
    assert rows[1].version > rows[0].version  # the newest state, the newest version


def test_pending_row_is_newer_than_rows_written_during_the_save(user_sync):
    with _during_save("ada", lambda user: User.objects.create(username="bob")):
        User.objects.create(username="ada")

    pending = OutboxEvent.objects.filter(status=PENDING).order_by("version")
    # The intent was written before bob's row, but the version sent for ada
    # must beat every row delivered meanwhile, or the target skips it.
    assert [row.object_key for row in pending] == [["bob"], ["ada"]]


def test_retry_now_leaves_intents_alone(user_sync, published):
    with _post_save_lost():
        User.objects.create(username="ada")

    assert outbox_retry(queryset=OutboxEvent.objects.all()) == 0
    assert _rows() == [(INTENT, "created", "", ["ada"])]
