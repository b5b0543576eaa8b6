"""SyncJob in bulk: a batch of plain upserts, its records read in one query."""

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from syncs.models import Sync
from tests.factories import UserFactory, inbox_event
from tests.webhooks.signed import user_data
from webhooks.apply import inbox_apply_batch
from webhooks.models import AppliedVersion, InboxEvent

pytestmark = pytest.mark.django_db


def _inbox(sync: Sync, name: str, *, version: int, **fields) -> InboxEvent:
    return inbox_event(
        sync,
        [name],
        version=version,
        event_type=fields.pop("event_type", "updated"),
        source_pk=fields.pop("source_pk", ""),
        data=user_data(fields.pop("username", name), password="!", **fields),
    )


def _statuses(*events: InboxEvent) -> list[str]:
    for event in events:
        event.refresh_from_db()
    return [event.status for event in events]


def test_batch_updates_the_records_here_and_creates_the_others(user_sync):
    here = UserFactory(username="alice", first_name="old")
    events = [
        _inbox(user_sync, "alice", version=1, first_name="new"),
        _inbox(user_sync, "bob", version=2, first_name="bob"),
    ]

    assert inbox_apply_batch(size=100) == 2

    assert _statuses(*events) == ["applied", "applied"]
    here.refresh_from_db()
    assert here.first_name == "new"
    assert User.objects.get(username="bob").first_name == "bob"
    assert User.objects.count() == 2


def test_batch_reads_its_records_in_a_few_queries_not_one_per_event(user_sync):
    UserFactory(username="user-0")  # a record to update, and to find the key by
    for i in range(40):
        _inbox(user_sync, f"user-{i}", version=i + 1)

    with CaptureQueriesContext(connection) as queries:
        assert inbox_apply_batch(size=100) == 40

    # One insert or update per record; every read and bookkeeping in bulk.
    assert len(queries) < 40 + 20
    assert User.objects.count() == 40
    assert AppliedVersion.objects.count() == 40


def test_stale_event_in_a_batch_is_skipped_and_the_rest_applied(user_sync):
    _inbox(user_sync, "alice", version=5, first_name="five")
    inbox_apply_batch(size=100)
    stale = _inbox(user_sync, "alice", version=3, first_name="three")
    fresh = _inbox(user_sync, "bob", version=6)

    assert inbox_apply_batch(size=100) == 2

    assert _statuses(stale, fresh) == ["skipped", "applied"]
    assert stale.error == "stale version"
    assert User.objects.get(username="alice").first_name == "five"


def test_record_with_a_bad_value_fails_alone_and_the_rest_apply(user_sync):
    bad = _inbox(user_sync, "alice", version=1, first_name="x" * 500)
    good = _inbox(user_sync, "bob", version=2)

    assert inbox_apply_batch(size=100) == 2

    assert _statuses(bad, good) == ["failed", "applied"]
    assert "first_name" in bad.error
    assert list(User.objects.values_list("username", flat=True)) == ["bob"]
    user_sync.refresh_from_db()
    assert user_sync.has_errors


def test_value_the_database_refuses_sends_the_batch_event_by_event(user_sync):
    UserFactory(username="taken")
    # The key is new here, but the username it writes is another record's.
    clash = _inbox(user_sync, "carol", version=1, username="taken")
    good = _inbox(user_sync, "bob", version=2)

    assert inbox_apply_batch(size=100) == 2

    assert _statuses(clash, good) == ["failed", "applied"]
    assert "username" in clash.error
    assert sorted(User.objects.values_list("username", flat=True)) == ["bob", "taken"]


def test_two_events_for_one_record_are_applied_in_order(user_sync):
    first = _inbox(user_sync, "alice", version=1, first_name="one")
    second = _inbox(user_sync, "alice", version=2, first_name="two")

    assert inbox_apply_batch(size=100) == 2

    assert _statuses(first, second) == ["applied", "applied"]
    assert User.objects.get(username="alice").first_name == "two"


def test_batch_with_a_delete_keeps_its_order(user_sync):
    UserFactory(username="alice")
    delete = _inbox(user_sync, "alice", version=1)
    create = _inbox(user_sync, "alice", version=2, first_name="again")
    delete.should_delete = True
    delete.save()

    assert inbox_apply_batch(size=100) == 2

    assert _statuses(delete, create) == ["applied", "applied"]
    assert User.objects.get(username="alice").first_name == "again"


def test_batch_finds_a_renamed_record_by_its_source_pk(user_sync):
    _inbox(user_sync, "alice", version=1, source_pk="7")
    inbox_apply_batch(size=100)
    renamed = _inbox(user_sync, "alicia", version=2, source_pk="7")
    other = _inbox(user_sync, "bob", version=3, source_pk="8")

    assert inbox_apply_batch(size=100) == 2

    assert _statuses(renamed, other) == ["applied", "applied"]
    assert sorted(User.objects.values_list("username", flat=True)) == ["alicia", "bob"]
