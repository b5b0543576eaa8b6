"""The inbox_apply task (SyncJob): drain the inbox batch by batch."""

import fcntl
import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from syncs.models import WorkQueue
from tests.factories import inbox_event
from tests.webhooks.signed import user_data
from webhooks import enqueue
from webhooks.files.uploads import upload_path
from webhooks.inbox import INBOX_QUEUE
from webhooks.models import InboxEvent
from webhooks.tasks import inbox_apply, inbox_purge

pytestmark = pytest.mark.django_db


def _pending(sync, version: int) -> InboxEvent:
    name = f"u{version}"
    return inbox_event(sync, [name], version=version, data=user_data(name))


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


# --- purge of unfinished file uploads ------------------------------------------------


def _partial(source_id: int, sha256: str, *, age: float) -> Path:
    path = upload_path(source_id=source_id, sha256=sha256)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * 100)
    then = time.time() - age
    os.utime(path, (then, then))
    return path


def test_purge_deletes_partial_uploads_no_chunk_reached_for_the_max_age(
    settings, tmp_path
):
    settings.FILE_SYNC_TEMP_DIR = tmp_path / "uploads"
    settings.FILE_SYNC_PARTIAL_MAX_AGE = 3600
    abandoned = [_partial(7, f"{n:064x}", age=3601) for n in range(3)]
    recent = _partial(7, "f" * 64, age=3599)
    other_sender = _partial(8, "e" * 64, age=10)

    inbox_purge()

    assert not any(path.exists() for path in abandoned)
    assert recent.exists() and other_sender.exists()


def test_purge_leaves_an_upload_that_a_chunk_is_being_written_to(settings, tmp_path):
    settings.FILE_SYNC_TEMP_DIR = tmp_path / "uploads"
    settings.FILE_SYNC_PARTIAL_MAX_AGE = 60
    busy = _partial(7, "a" * 64, age=600)

    with open(busy, "ab") as writer:
        fcntl.flock(writer.fileno(), fcntl.LOCK_EX)  # as upload_append holds it
        inbox_purge()

    assert busy.exists()
    inbox_purge()
    assert not busy.exists()


def test_purge_without_an_upload_folder_does_nothing(settings, tmp_path):
    settings.FILE_SYNC_TEMP_DIR = tmp_path / "never-created"

    assert inbox_purge() == 0


def test_enqueue_asks_for_inbox_apply_by_its_name(monkeypatch):
    asked = []
    monkeypatch.setattr(inbox_apply, "delay", lambda: asked.append("inbox_apply"))

    enqueue.inbox_apply()

    assert asked == ["inbox_apply"]
