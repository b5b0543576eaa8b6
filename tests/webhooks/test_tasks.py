"""The inbox_apply task (SyncJob): drain the inbox batch by batch."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from syncs.models import WorkQueue
from tests.webhooks.signed import user_data
from webhooks.inbox import INBOX_QUEUE
from webhooks.models import InboxEvent
from webhooks.tasks import inbox_apply

pytestmark = pytest.mark.django_db


def _pending(sync, version: int) -> InboxEvent:
    return InboxEvent.objects.create(
        source_platform=sync.source_platform,
        sync=sync,
        event_id=f"evt-{version}",
        version=version,
        event_type="created",
        model_label="auth.User",
        object_key=[f"u{version}"],
        data=user_data(f"u{version}"),
    )


def test_inbox_apply_drains_every_pending_event_in_batches(user_sync, settings):
    settings.SYNC_BATCH_SIZE = 2
    for version in range(1, 6):
        _pending(user_sync, version)

    inbox_apply()

    assert User.objects.count() == 5
    assert not InboxEvent.objects.filter(status=InboxEvent.Status.PENDING).exists()
    queue = WorkQueue.objects.get(name=INBOX_QUEUE)
    assert queue.lease_until is None
    assert queue.requested is False


def test_inbox_apply_leaves_the_inbox_to_the_worker_holding_the_lease(user_sync):
    WorkQueue.objects.create(
        name=INBOX_QUEUE, lease_until=timezone.now() + timedelta(minutes=1)
    )
    event = _pending(user_sync, 1)

    inbox_apply()

    event.refresh_from_db()
    assert event.status == InboxEvent.Status.PENDING
    assert not User.objects.exists()
