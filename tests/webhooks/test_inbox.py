"""The inbox: what inbox_store counts is exactly what it stored."""

import pytest

from tests.factories import inbox_event_build
from webhooks.inbox import inbox_store
from webhooks.models import InboxEvent

pytestmark = pytest.mark.django_db


def _row(user_sync, event_id: str) -> InboxEvent:
    return inbox_event_build(user_sync, [event_id], event_id=event_id)


def test_store_counts_new_rows_as_accepted_and_known_ones_as_duplicates(user_sync):
    inbox_store(source=user_sync.source_platform, rows=[_row(user_sync, "a")])

    counts = inbox_store(
        source=user_sync.source_platform,
        rows=[_row(user_sync, "a"), _row(user_sync, "b")],
    )

    assert counts == (1, 1)
    assert sorted(InboxEvent.objects.values_list("event_id", flat=True)) == ["a", "b"]


def test_rows_stored_meanwhile_by_another_request_are_counted_as_duplicates(
    user_sync,
):
    """The batch insert fails on a row stored meanwhile; the rest is stored."""
    # Two rows with one id stand for a row another request stored between the
    # check for known ids and the insert: the insert fails on the unique id.
    rows = [_row(user_sync, "a"), _row(user_sync, "b"), _row(user_sync, "a")]

    accepted, duplicates = inbox_store(source=user_sync.source_platform, rows=rows)

    stored = InboxEvent.objects.count()
    assert (accepted, duplicates, stored) == (2, 1, 2)
