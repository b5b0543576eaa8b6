"""SyncJob: an event that cannot be applied fails alone, up to the real commit.

These tests commit (``transaction=True``): SQLite and PostgreSQL check foreign
keys only at commit, which a test inside one rolled-back transaction never
reaches. Run them on every engine (DATABASE_URL).
"""

import pytest
from django.contrib.auth.models import Group, User

from syncs.bindings import bindings_reset
from syncs.models import Sync
from tests.factories import inbox_event
from tests.webhooks.signed import user_data
from webhooks.apply import inbox_apply_batch
from webhooks.models import AppliedVersion, InboxEvent

pytestmark = pytest.mark.django_db(transaction=True)


def _user(sync: Sync, name: str, version: int, **fields) -> InboxEvent:
    return inbox_event(sync, [name], version=version, data=user_data(name, **fields))


def _statuses(*events: InboxEvent) -> list[str]:
    for event in events:
        event.refresh_from_db()
    return [event.status for event in events]


def test_group_named_by_raw_id_fails_alone_and_later_batches_apply(user_sync):
    bob = _user(user_sync, "bob", 1)
    alice = _user(user_sync, "alice", 2, groups=[999999])
    carol = _user(user_sync, "carol", 3)

    assert inbox_apply_batch(size=100) == 3

    assert _statuses(bob, alice, carol) == ["applied", "failed", "applied"]
    assert "groups" in alice.error and "999999" in alice.error
    assert sorted(User.objects.values_list("username", flat=True)) == ["bob", "carol"]
    user_sync.refresh_from_db()
    assert user_sync.has_errors and "999999" in user_sync.error_message

    dave = _user(user_sync, "dave", 4)
    assert inbox_apply_batch(size=100) == 1

    assert _statuses(dave) == ["applied"]
    assert User.objects.filter(username="dave").exists()
    user_sync.refresh_from_db()
    assert not user_sync.has_errors


class RawLinkHandler:
    """Create the user, and for ["bad"] link it to a group that does not exist."""

    def sync(self, *, sync, key, data):
        user = User.objects.create(username=key[0])
        if key == ["bad"]:
            # Past every check: only the database's foreign key can refuse it,
            # at commit on SQLite.
            User.groups.through.objects.create(user_id=user.pk, group_id=999999)

    def delete(self, *, sync, key):
        raise NotImplementedError


@pytest.fixture
def raw_link_handler(settings):
    settings.SYNC_BINDINGS = {"auth.User": f"{__name__}.RawLinkHandler"}
    bindings_reset()
    yield
    bindings_reset()


def test_foreign_key_refused_by_the_database_fails_only_its_event(
    user_sync, raw_link_handler
):
    first = inbox_event(user_sync, ["first"], version=1, data={})
    bad = inbox_event(user_sync, ["bad"], version=2, data={})
    last = inbox_event(user_sync, ["last"], version=3, data={})

    assert inbox_apply_batch(size=100) == 3

    assert _statuses(first, bad, last) == ["applied", "failed", "applied"]
    assert bad.error.startswith("IntegrityError: ")
    assert sorted(User.objects.values_list("username", flat=True)) == ["first", "last"]
    assert not User.groups.through.objects.exists()
    user_sync.refresh_from_db()
    assert user_sync.has_errors and "IntegrityError" in user_sync.error_message
    assert AppliedVersion.objects.count() == 2


def test_batch_with_a_bad_event_applies_its_neighbours_in_version_order(user_sync):
    Group.objects.create(name="editors")
    newer = inbox_event(
        user_sync, ["ann"], version=9, data=user_data("ann", email="n@x")
    )
    bad = _user(user_sync, "zed", 5, first_name="x" * 1_000_000)
    older = inbox_event(
        user_sync, ["ann"], version=2, data=user_data("ann", email="o@x")
    )

    inbox_apply_batch(size=100)

    assert _statuses(newer, bad, older) == ["applied", "failed", "applied"]
    assert User.objects.get(username="ann").email == "n@x"
    assert "first_name" in bad.error
    assert len(bad.error) < 2100
