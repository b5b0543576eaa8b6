"""The beat schedule and the periodic relay and purge tasks."""

import pickle
from datetime import timedelta

import pytest
from django.utils import timezone

from syncs import tasks
from syncs.models import OutboxEvent
from syncs.schedule import SYNC_BEAT_SCHEDULE
from tests.factories import SyncFactory, inbox_event, outbox_event
from webhooks import tasks as webhook_tasks
from webhooks.models import InboxEvent

pytestmark = pytest.mark.django_db


def test_schedule_runs_only_the_switched_on_jobs_at_their_frequency(settings):
    settings.SYNC_PLATFORM_JOB_ENABLED = True
    settings.SYNC_PLATFORM_JOB_FREQUENCY = 42
    settings.SYNC_BACKUP_JOB_ENABLED = False
    settings.SYNC_API_JOB_ENABLED = False
    settings.SYNC_RELAY_ENABLED = True
    settings.SYNC_PURGE_ENABLED = False
    long_ago = timezone.now() - timedelta(days=1)
    due = {
        entry["task"]
        for entry in SYNC_BEAT_SCHEDULE.values()
        if entry["schedule"].is_due(long_ago).is_due
    }
    assert due == {
        "platforms.tasks.platforms_push",
        "syncs.tasks.outbox_relay",
        "syncs.tasks.fills_resume",
        "webhooks.tasks.inbox_relay",
    }
    push = SYNC_BEAT_SCHEDULE["mooxsync-sync-platforms:platforms.tasks.platforms_push"]
    assert push["schedule"].run_every == timedelta(seconds=42)
    just_now = timezone.now() - timedelta(seconds=30)
    assert push["schedule"].is_due(just_now).is_due is False


def test_schedule_survives_pickling_as_beat_stores_it():
    entry = SYNC_BEAT_SCHEDULE["mooxsync-relay:syncs.tasks.outbox_relay"]
    copy = pickle.loads(pickle.dumps(entry["schedule"]))
    assert (copy.switch, copy.frequency) == (
        "SYNC_RELAY_ENABLED",
        "SYNC_RELAY_FREQUENCY",
    )


def test_relay_requests_delivery_for_targets_with_due_rows_only(monkeypatch):
    due, waiting, done = SyncFactory(), SyncFactory(), SyncFactory()
    outbox_event(due, ["ada"])
    outbox_event(
        waiting, ["ada"], next_attempt_at=timezone.now() + timedelta(minutes=5)
    )
    outbox_event(done, ["ada"], status="delivered")
    published = []
    monkeypatch.setattr(tasks.outbox_deliver, "delay", published.append)
    assert tasks.outbox_relay() == 1
    assert published == [due.target_platform_id]


def test_inbox_relay_requests_syncjob_only_when_events_wait(monkeypatch):
    published = []
    monkeypatch.setattr(webhook_tasks.inbox_apply, "delay", lambda: published.append(1))
    assert webhook_tasks.inbox_relay() is False
    sync = SyncFactory()
    inbox_event(sync, ["ada"], event_type="created")
    assert webhook_tasks.inbox_relay() is True
    assert published == [1]


def test_purge_deletes_only_old_delivered_and_applied_rows(settings):
    settings.SYNC_PURGE_AFTER_DAYS = 7
    sync = SyncFactory()
    old = timezone.now() - timedelta(days=8)
    outbox_event(sync, ["ada"], status="delivered", delivered_at=old)
    recent = outbox_event(
        sync, ["ada"], status="delivered", delivered_at=timezone.now()
    )
    dead = outbox_event(sync, ["ada"], status="dead")
    assert tasks.outbox_purge() == 1
    assert set(OutboxEvent.objects.values_list("pk", flat=True)) == {recent.pk, dead.pk}
    for event_id, status, applied_at in [
        ("1", "applied", old),
        ("2", "applied", timezone.now()),
        ("3", "failed", old),
    ]:
        inbox_event(
            sync, ["ada"], event_id=event_id, status=status, applied_at=applied_at
        )
    assert webhook_tasks.inbox_purge() == 1
    assert sorted(InboxEvent.objects.values_list("event_id", flat=True)) == ["2", "3"]
