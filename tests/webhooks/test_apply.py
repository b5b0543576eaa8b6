"""SyncJob: inbox events applied to this platform's records."""

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.db import OperationalError

from platforms.services import platform_relations_get, platform_relations_set
from syncs.bindings import bindings_reset
from syncs.models import OutboxEvent, Sync
from syncs.payload import envelope_build
from tests.factories import (
    PlatformFactory,
    SyncFactory,
    UserFactory,
    inbox_event,
    outbox_event,
)
from tests.webhooks.signed import envelope, user_data, user_event, webhook_post
from webhooks.apply import inbox_apply_batch
from webhooks.models import AppliedVersion, InboxEvent

pytestmark = pytest.mark.django_db


def _apply() -> int:
    return inbox_apply_batch(size=100)


def _status(event: InboxEvent) -> str:
    event.refresh_from_db()
    return event.status


@pytest.fixture
def password_sync(user_sync):
    """The user sync, writing the password (a privileged field) as well."""
    user_sync.field_mappings = {"password": "password"}
    user_sync.save()
    return user_sync


# --- create, update, delete -----------------------------------------------------------


def test_create_makes_the_user_whose_password_still_checks(password_sync):
    event = inbox_event(
        password_sync,
        ["alice"],
        data=user_data("alice", password="original-pass"),
        event_type="created",
    )

    assert _apply() == 1

    alice = User.objects.get(username="alice")
    assert alice.check_password("original-pass")
    assert not alice.check_password("other-pass")
    assert alice.email == "alice@example.com"
    event.refresh_from_db()
    assert event.status == InboxEvent.Status.APPLIED
    assert event.error == ""
    assert event.applied_at is not None


def test_event_stored_by_the_webhook_is_applied(client, source, user_sync):
    body = envelope(source.domain, [user_event("alice")])
    webhook_post(client, body, sender=source)

    _apply()

    assert User.objects.filter(username="alice").exists()
    assert InboxEvent.objects.get().status == InboxEvent.Status.APPLIED


def test_envelope_built_by_a_sender_is_accepted_and_applied(
    client, source, current_platform, password_sync
):
    """Sender and receiver agree on the wire: build, sign, post, apply."""
    editors = Group.objects.create(name="editors")
    carol = UserFactory(username="carol", password="carols-pass", first_name="C")
    carol.groups.add(editors)
    row = outbox_event(
        password_sync,
        ["carol"],
        target_platform=current_platform,
        event_type="created",
        object_pk=str(carol.pk),
    )
    body = envelope_build(source=source, target=current_platform, rows=[row])
    carol.delete()  # this platform has not got her yet

    response = webhook_post(client, body, sender=source)
    _apply()

    assert response.json() == {"accepted": 1, "duplicates": 0}
    carol = User.objects.get(username="carol")
    assert carol.check_password("carols-pass")
    assert carol.first_name == "C"
    assert list(carol.groups.all()) == [editors]


def test_update_writes_the_fields_sent_and_keeps_the_others(user_sync):
    alice = UserFactory(username="alice", first_name="Old", last_name="Keeps")

    inbox_event(user_sync, ["alice"], data={"first_name": "New"})
    _apply()

    alice.refresh_from_db()
    assert alice.first_name == "New"
    assert alice.last_name == "Keeps"
    assert alice.email == "alice@example.com"
    assert User.objects.filter(username="alice").count() == 1


def test_update_matches_by_natural_key_not_by_id(user_sync):
    UserFactory(username="bob")
    alice = UserFactory(username="alice")

    inbox_event(user_sync, ["alice"], data={"first_name": "Al"})
    _apply()

    assert User.objects.get(pk=alice.pk).first_name == "Al"
    assert User.objects.get(username="bob").first_name == ""


def test_should_delete_removes_the_record(user_sync):
    UserFactory(username="alice")

    event = inbox_event(user_sync, ["alice"], should_delete=True, event_type="deleted")
    _apply()

    assert not User.objects.filter(username="alice").exists()
    assert _status(event) == InboxEvent.Status.APPLIED


def test_should_delete_of_a_record_not_here_is_applied_quietly(user_sync):
    event = inbox_event(user_sync, ["ghost"], should_delete=True, event_type="deleted")

    _apply()

    assert _status(event) == InboxEvent.Status.APPLIED
    assert not User.objects.exists()


def test_should_delete_wins_over_data(user_sync):
    UserFactory(username="alice")

    inbox_event(user_sync, ["alice"], data=user_data("alice"), should_delete=True)
    _apply()

    assert not User.objects.filter(username="alice").exists()


# --- related records by natural key ---------------------------------------------------


def test_groups_are_set_by_natural_key(user_sync):
    editors = Group.objects.create(name="editors")
    Group.objects.create(name="readers")
    alice = UserFactory(username="alice")
    alice.groups.add(Group.objects.get(name="readers"))

    inbox_event(user_sync, ["alice"], data={"groups": [["editors"]]})
    _apply()

    assert list(alice.groups.all()) == [editors]


def test_new_user_gets_its_groups(user_sync):
    editors = Group.objects.create(name="editors")

    data = user_data("alice", groups=[["editors"]])
    inbox_event(user_sync, ["alice"], data=data, event_type="created")
    _apply()

    assert list(User.objects.get(username="alice").groups.all()) == [editors]


def test_missing_group_fails_its_event_and_the_batch_goes_on(user_sync):
    bad = inbox_event(
        user_sync, ["alice"], version=1, data=user_data("alice", groups=[["ghosts"]])
    )
    good = inbox_event(user_sync, ["bob"], version=2, data=user_data("bob"))

    assert _apply() == 2

    bad.refresh_from_db()
    assert bad.status == InboxEvent.Status.FAILED
    assert "ghosts" in bad.error
    assert not User.objects.filter(username="alice").exists()
    assert _status(good) == InboxEvent.Status.APPLIED
    assert User.objects.filter(username="bob").exists()
    user_sync.refresh_from_db()
    assert user_sync.has_errors is True
    assert "ghosts" in user_sync.error_message
    assert user_sync.last_sync is not None


def test_missing_foreign_key_fails_its_event_and_the_batch_goes_on(
    source, current_platform
):
    sync = SyncFactory(
        source_platform=source,
        target_platform=current_platform,
        source_model="auth.Permission",
        target_model="auth.Permission",
    )
    bad = inbox_event(
        sync,
        ["fly", "auth", "user"],
        version=1,
        data={"name": "Can fly", "codename": "fly", "content_type": ["nowhere", "x"]},
    )
    good = inbox_event(
        sync,
        ["swim", "auth", "user"],
        version=2,
        data={"name": "Can swim", "codename": "swim", "content_type": ["auth", "user"]},
    )

    _apply()

    assert _status(bad) == InboxEvent.Status.FAILED
    assert not Permission.objects.filter(codename="fly").exists()
    assert _status(good) == InboxEvent.Status.APPLIED
    assert Permission.objects.get(codename="swim").content_type.model == "user"


def test_later_good_batch_clears_the_sync_error(user_sync):
    inbox_event(user_sync, ["alice"], data=user_data("alice", groups=[["ghosts"]]))
    _apply()

    inbox_event(user_sync, ["bob"], version=2, data=user_data("bob"))
    _apply()

    user_sync.refresh_from_db()
    assert user_sync.has_errors is False
    assert user_sync.error_message == ""


def test_failed_event_leaves_nothing_of_its_writes(user_sync, settings):
    """A handler that writes and then fails is rolled back to its savepoint."""
    settings.SYNC_BINDINGS = {"auth.User": f"{__name__}.GroupNamingHandler"}
    bindings_reset()
    bad = inbox_event(user_sync, ["boom"], version=1, data={"first_name": "x"})
    inbox_event(user_sync, ["bob"], version=2, data={"first_name": "y"})

    _apply()

    assert _status(bad) == InboxEvent.Status.FAILED
    assert "RuntimeError" in bad.error
    assert not Group.objects.filter(name="synced boom").exists()
    assert Group.objects.filter(name="synced bob").exists()


class DatabaseTroubleHandler:
    """Fail like a lost connection or a deadlock would."""

    def sync(self, *, sync, key, data):
        Group.objects.create(name=f"synced {key[0]}")
        if key == ["trouble"]:
            raise OperationalError("server closed the connection unexpectedly")

    def delete(self, *, sync, key):
        raise NotImplementedError


def test_database_trouble_rolls_the_batch_back_to_retry_it(user_sync, settings):
    settings.SYNC_BINDINGS = {"auth.User": f"{__name__}.DatabaseTroubleHandler"}
    bindings_reset()
    first = inbox_event(user_sync, ["alice"], version=1)
    trouble = inbox_event(user_sync, ["trouble"], version=2)

    with pytest.raises(OperationalError):
        _apply()

    assert _status(first) == InboxEvent.Status.PENDING
    assert _status(trouble) == InboxEvent.Status.PENDING
    assert not Group.objects.exists()
    assert not AppliedVersion.objects.exists()


def test_model_without_an_identity_fails_its_event(source, current_platform):
    sync = SyncFactory(
        source_platform=source,
        target_platform=current_platform,
        source_model="admin.LogEntry",
        target_model="admin.LogEntry",
    )
    event = inbox_event(sync, 1, data={"object_repr": "x"})

    _apply()

    event.refresh_from_db()
    assert event.status == InboxEvent.Status.FAILED
    assert "IdentityError" in event.error


# --- versions -------------------------------------------------------------------------


def test_older_version_after_a_newer_one_is_skipped(user_sync):
    UserFactory(username="alice")
    inbox_event(user_sync, ["alice"], version=5, data={"first_name": "New"})
    _apply()

    late = inbox_event(user_sync, ["alice"], version=3, data={"first_name": "Old"})
    _apply()

    late.refresh_from_db()
    assert late.status == InboxEvent.Status.SKIPPED
    assert late.error == "stale version"
    assert User.objects.get(username="alice").first_name == "New"


def test_older_delete_after_a_newer_update_does_not_delete(user_sync):
    UserFactory(username="alice")
    inbox_event(user_sync, ["alice"], version=5, data={"first_name": "New"})
    _apply()

    inbox_event(user_sync, ["alice"], version=4, should_delete=True)
    _apply()

    assert User.objects.filter(username="alice").exists()


def test_same_version_again_is_skipped(user_sync):
    UserFactory(username="alice")
    inbox_event(user_sync, ["alice"], version=5, data={"first_name": "First"})
    _apply()

    again = inbox_event(user_sync, ["alice"], version=5, data={"first_name": "Again"})
    _apply()

    assert _status(again) == InboxEvent.Status.SKIPPED
    assert User.objects.get(username="alice").first_name == "First"


def test_batch_is_applied_in_version_order_not_arrival_order(user_sync):
    UserFactory(username="alice")
    newer = inbox_event(user_sync, ["alice"], version=9, data={"first_name": "Newest"})
    older = inbox_event(user_sync, ["alice"], version=2, data={"first_name": "Older"})

    _apply()

    assert _status(newer) == InboxEvent.Status.APPLIED
    assert _status(older) == InboxEvent.Status.APPLIED
    assert User.objects.get(username="alice").first_name == "Newest"


def test_applied_version_is_recorded_per_source_and_record(user_sync):
    inbox_event(user_sync, ["alice"], version=7, data=user_data("alice"))

    _apply()

    applied = AppliedVersion.objects.get()
    assert applied.version == 7
    assert applied.source_platform == user_sync.source_platform
    assert applied.model_label == "auth.User"


def test_versions_of_another_source_do_not_make_an_event_stale(
    user_sync, current_platform
):
    UserFactory(username="alice")
    other = SyncFactory(
        source_platform=PlatformFactory(domain="c.test"),
        target_platform=current_platform,
    )
    inbox_event(other, ["alice"], version=100, data={"first_name": "From C"})
    _apply()

    inbox_event(user_sync, ["alice"], version=1, data={"first_name": "From B"})
    _apply()

    assert User.objects.get(username="alice").first_name == "From B"


def test_failed_event_does_not_advance_the_version(user_sync):
    inbox_event(
        user_sync, ["alice"], version=5, data=user_data("a", groups=[["ghost"]])
    )
    _apply()

    retry = inbox_event(user_sync, ["alice"], version=4, data=user_data("alice"))
    _apply()

    assert _status(retry) == InboxEvent.Status.APPLIED
    assert User.objects.filter(username="alice").exists()


# --- if_exists ------------------------------------------------------------------------


def test_if_exists_skip_leaves_an_existing_record_alone(user_sync):
    user_sync.if_exists = Sync.IfExists.SKIP
    user_sync.save()
    UserFactory(username="alice", first_name="Mine")

    event = inbox_event(user_sync, ["alice"], data={"first_name": "Theirs"})
    _apply()

    assert _status(event) == InboxEvent.Status.SKIPPED
    assert User.objects.get(username="alice").first_name == "Mine"


def test_if_exists_skip_still_creates_a_missing_record(user_sync):
    user_sync.if_exists = Sync.IfExists.SKIP
    user_sync.save()

    event = inbox_event(user_sync, ["alice"], data=user_data("alice"))
    _apply()

    assert _status(event) == InboxEvent.Status.APPLIED
    assert User.objects.filter(username="alice").exists()


def test_if_exists_error_fails_the_event_and_flags_the_sync(user_sync):
    user_sync.if_exists = Sync.IfExists.ERROR
    user_sync.save()
    UserFactory(username="alice", first_name="Mine")

    event = inbox_event(user_sync, ["alice"], data={"first_name": "Theirs"})
    _apply()

    event.refresh_from_db()
    assert event.status == InboxEvent.Status.FAILED
    assert "exists already" in event.error
    assert User.objects.get(username="alice").first_name == "Mine"
    user_sync.refresh_from_db()
    assert user_sync.has_errors is True
    assert "exists already" in user_sync.error_message


def test_if_exists_error_still_creates_a_missing_record(user_sync):
    user_sync.if_exists = Sync.IfExists.ERROR
    user_sync.save()

    event = inbox_event(user_sync, ["alice"], data=user_data("alice"))
    _apply()

    assert _status(event) == InboxEvent.Status.APPLIED
    assert User.objects.filter(username="alice").exists()


def test_if_exists_update_overwrites_an_existing_record(user_sync):
    assert user_sync.if_exists == Sync.IfExists.UPDATE
    UserFactory(username="alice", first_name="Mine")

    inbox_event(user_sync, ["alice"], data={"first_name": "Theirs"})
    _apply()

    assert User.objects.get(username="alice").first_name == "Theirs"


@pytest.mark.parametrize("if_exists", [Sync.IfExists.SKIP, Sync.IfExists.ERROR])
def test_deletes_are_applied_whatever_if_exists_says(user_sync, if_exists):
    user_sync.if_exists = if_exists
    user_sync.save()
    UserFactory(username="alice")

    inbox_event(user_sync, ["alice"], should_delete=True)
    _apply()

    assert not User.objects.filter(username="alice").exists()


# --- handler bindings -----------------------------------------------------------------


class GroupNamingHandler:
    """Record sync() and delete() calls as groups named after the key."""

    def sync(self, *, sync, key, data):
        Group.objects.create(name=f"synced {key[0]}")
        if key == ["boom"]:
            raise RuntimeError("handler failed")

    def delete(self, *, sync, key):
        Group.objects.create(name=f"deleted {key[0]}")


@pytest.fixture
def group_handler(settings):
    settings.SYNC_BINDINGS = {"auth.User": f"{__name__}.GroupNamingHandler"}
    bindings_reset()


def test_handler_binding_replaces_the_upsert(user_sync, group_handler):
    event = inbox_event(user_sync, ["alice"], data=user_data("alice"))

    _apply()

    assert _status(event) == InboxEvent.Status.APPLIED
    assert Group.objects.filter(name="synced alice").exists()
    assert not User.objects.filter(username="alice").exists()


def test_handler_binding_replaces_the_delete(user_sync, group_handler):
    UserFactory(username="alice")

    inbox_event(user_sync, ["alice"], should_delete=True)
    _apply()

    assert Group.objects.filter(name="deleted alice").exists()
    assert User.objects.filter(username="alice").exists()


def test_handler_binding_is_not_called_when_if_exists_skips(user_sync, group_handler):
    user_sync.if_exists = Sync.IfExists.SKIP
    user_sync.save()
    UserFactory(username="alice")

    inbox_event(user_sync, ["alice"], data={"first_name": "x"})
    _apply()

    assert not Group.objects.exists()


# --- platform relations ---------------------------------------------------------------


@pytest.fixture
def relations_on_users(settings):
    settings.SYNC_MODELS_WITH_PLATFORM_RELATIONS = ["auth.User"]


def test_platform_relations_are_applied_to_the_record(
    user_sync, current_platform, relations_on_users
):
    third = PlatformFactory(domain="c.test")

    inbox_event(
        user_sync,
        ["alice"],
        data=user_data("alice"),
        platforms=["a.test", "c.test", "unknown.test"],
    )
    _apply()

    alice = User.objects.get(username="alice")
    assert set(platform_relations_get(record=alice)) == {current_platform, third}


def test_platform_relations_are_replaced_not_added(
    user_sync, current_platform, source, relations_on_users
):
    alice = UserFactory(username="alice")
    platform_relations_set(record=alice, platforms=[current_platform, source])

    inbox_event(user_sync, ["alice"], data={"first_name": "x"}, platforms=["b.test"])
    _apply()

    assert list(platform_relations_get(record=alice)) == [source]


def test_event_without_platforms_leaves_the_relations_alone(
    user_sync, current_platform, relations_on_users
):
    alice = UserFactory(username="alice")
    platform_relations_set(record=alice, platforms=[current_platform])

    inbox_event(user_sync, ["alice"], data={"first_name": "x"}, platforms=None)
    _apply()

    assert list(platform_relations_get(record=alice)) == [current_platform]


def test_platform_relations_are_ignored_for_models_not_listed(
    user_sync, current_platform
):
    inbox_event(user_sync, ["alice"], data=user_data("alice"), platforms=["a.test"])

    _apply()

    alice = User.objects.get(username="alice")
    assert not platform_relations_get(record=alice).exists()


# --- loop guard and sync bookkeeping --------------------------------------------------


def test_applied_change_is_not_sent_back_to_its_source_but_goes_on_elsewhere(
    user_sync, source, current_platform, django_capture_on_commit_callbacks
):
    third = PlatformFactory(domain="c.test")
    back = SyncFactory(source_platform=current_platform, target_platform=source)
    onward = SyncFactory(source_platform=current_platform, target_platform=third)
    inbox_event(user_sync, ["alice"], data=user_data("alice"), event_type="created")

    with django_capture_on_commit_callbacks(execute=False):
        _apply()

    assert not OutboxEvent.objects.filter(sync=back).exists()
    assert OutboxEvent.objects.filter(
        sync=onward, object_key=["alice"], target_platform=third
    ).exists()


def test_local_change_after_apply_is_sent_to_the_source_again(
    user_sync, source, current_platform, django_capture_on_commit_callbacks
):
    """The loop guard covers the apply only, not later edits made here."""
    back = SyncFactory(source_platform=current_platform, target_platform=source)
    inbox_event(user_sync, ["alice"], data=user_data("alice"))
    with django_capture_on_commit_callbacks(execute=False):
        _apply()
        alice = User.objects.get(username="alice")
        alice.first_name = "Edited here"
        alice.save()

    assert OutboxEvent.objects.filter(sync=back, object_key=["alice"]).exists()


def test_applied_delete_is_not_sent_back_to_its_source(
    user_sync, source, current_platform, django_capture_on_commit_callbacks
):
    UserFactory(username="alice")
    back = SyncFactory(source_platform=current_platform, target_platform=source)

    inbox_event(user_sync, ["alice"], should_delete=True)
    with django_capture_on_commit_callbacks(execute=False):
        _apply()

    assert not OutboxEvent.objects.filter(sync=back).exists()


def test_apply_sets_last_sync_and_clears_errors(user_sync):
    Sync.objects.filter(pk=user_sync.pk).update(has_errors=True, error_message="old")

    inbox_event(user_sync, ["alice"], data=user_data("alice"))
    _apply()

    user_sync.refresh_from_db()
    assert user_sync.last_sync is not None
    assert user_sync.has_errors is False
    assert user_sync.error_message == ""


def test_event_of_a_sync_made_inactive_since_is_skipped(user_sync):
    event = inbox_event(user_sync, ["alice"], data=user_data("alice"))
    user_sync.status = False
    user_sync.save()

    _apply()

    event.refresh_from_db()
    assert event.status == InboxEvent.Status.SKIPPED
    assert event.error == "sync inactive or gone"
    assert not User.objects.exists()


def test_event_of_a_deleted_sync_is_skipped(user_sync):
    event = inbox_event(user_sync, ["alice"], data=user_data("alice"))
    user_sync.delete()

    _apply()

    assert _status(event) == InboxEvent.Status.SKIPPED
    assert not User.objects.exists()


# --- batches --------------------------------------------------------------------------


def test_batch_takes_at_most_size_events_in_arrival_order(user_sync):
    events = [
        inbox_event(user_sync, [f"u{v}"], version=v, data=user_data(f"u{v}"))
        for v in (3, 1, 2)
    ]

    assert inbox_apply_batch(size=2) == 2

    assert [_status(e) for e in events] == ["applied", "applied", "pending"]
    assert inbox_apply_batch(size=2) == 1
    assert inbox_apply_batch(size=2) == 0


def test_applied_events_are_not_applied_again(user_sync):
    inbox_event(user_sync, ["alice"], data=user_data("alice"))
    _apply()
    User.objects.filter(username="alice").update(first_name="Changed here")

    assert _apply() == 0
    assert User.objects.get(username="alice").first_name == "Changed here"
