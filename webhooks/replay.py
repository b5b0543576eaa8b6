"""Apply failed inbox events again, on request from the delivery log."""

from django.db import transaction

from webhooks.inbox import inbox_apply_request
from webhooks.models import InboxEvent

REPLAYABLE = [InboxEvent.Status.FAILED, InboxEvent.Status.PENDING]


def inbox_replay(*, queryset) -> int:
    """Make failed (or waiting) events pending again, ask for SyncJob; count them.

    Applied and skipped events are left alone: applying them again could roll
    a record back. The error is cleared so the next outcome is the only one.
    """
    count = queryset.filter(status__in=REPLAYABLE).update(
        status=InboxEvent.Status.PENDING, error="", applied_at=None
    )
    if count:
        transaction.on_commit(inbox_apply_request, robust=True)
    return count
