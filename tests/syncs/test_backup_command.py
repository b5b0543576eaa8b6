"""manage.py sync_backup and the beat task backup_run."""

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.utils import timezone

from syncs import tasks
from syncs.backup import services
from syncs.backup.schedule import backup_queue_name
from syncs.models import OutboxEvent, SyncFill, WorkQueue
from tests.factories import PlatformFactory, SyncFactory, UserFactory
from tests.syncs.backup_target import MemoryTarget

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_listener(settings):
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
def memory_target(monkeypatch, user_sync):
    """Answer every backup's digest requests from an in-memory copy of the users."""
    for i in range(5):
        UserFactory(username=f"user{i}")
    memory = MemoryTarget.copy_of("auth.User")
    monkeypatch.setattr(services, "DigestClient", lambda *, source, target: memory)
    return memory


def _backup(*args: str, verbosity: int = 1) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("sync_backup", *args, verbosity=verbosity, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


# --- the command ---------------------------------------------------------------


def test_unknown_sync_is_a_command_error(current_platform):
    with pytest.raises(CommandError, match="no sync with id 999"):
        _backup("--sync", "999")


def test_sync_from_another_platform_is_a_command_error(current_platform):
    sync = SyncFactory(source_platform=PlatformFactory(domain="c.test"))
    with pytest.raises(CommandError, match="back it up there"):
        _backup("--sync", str(sync.pk))


def test_inactive_sync_is_a_command_error(user_sync):
    user_sync.status = False
    user_sync.save()
    with pytest.raises(CommandError, match="inactive"):
        _backup("--sync", str(user_sync.pk))


@pytest.mark.parametrize("args", [("--sync", "1"), ()])
def test_platform_without_its_row_is_a_command_error(db, args):
    with pytest.raises(CommandError, match="no Platform row"):
        _backup(*args)


def test_dry_run_reports_and_writes_nothing(memory_target, user_sync):
    User.objects.filter(username="user1").update(email="drifted@a.test")

    out, _ = _backup("--sync", str(user_sync.pk), "--dry-run")

    assert "checked 5, created 0, updated 1, deleted 0, unchanged 4" in out
    assert "dry run: nothing written" in out and "would send" in out
    assert not OutboxEvent.objects.exists()


def test_backup_of_every_sync_writes_the_repair(memory_target, user_sync):
    User.objects.filter(username="user1").update(email="drifted@a.test")
    memory_target.drop(["user2"])

    out, _ = _backup()

    assert "created 1, updated 1, deleted 0" in out
    assert sorted(OutboxEvent.objects.values_list("event_type", flat=True)) == [
        "created",
        "updated",
    ]


def test_verbosity_zero_prints_nothing(memory_target, user_sync):
    assert _backup(verbosity=0) == ("", "")


def test_failed_backup_is_reported_and_fails_the_command(memory_target, user_sync):
    memory_target.refuse_with = "http://b.test answered 401: invalid_signature"

    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError, match="1 of 1 backups failed"):
        call_command("sync_backup", stdout=out, stderr=err)
    assert "invalid_signature" in err.getvalue()


def test_no_syncs_says_so(current_platform):
    out, _ = _backup()
    assert "No active syncs" in out


# --- the beat task ---------------------------------------------------------------


def test_backup_run_starts_due_syncs_only(monkeypatch, user_sync, target_platform):
    started = []
    monkeypatch.setattr(tasks.backup_sync, "delay", started.append)
    waiting = SyncFactory(
        source_platform=user_sync.source_platform,
        target_platform=target_platform,
        source_model="auth.Group",
        target_model="auth.Group",
    )
    WorkQueue.objects.create(
        name=backup_queue_name(waiting.pk),
        lease_until=timezone.now() + timedelta(minutes=5),
    )
    SyncFactory(source_platform=target_platform)  # not sent from here

    assert tasks.backup_run() == [user_sync.pk]
    assert started == [user_sync.pk]


def test_backup_sync_runs_once_per_interval(memory_target, user_sync):
    User.objects.filter(username="user1").update(email="drifted@a.test")

    first = tasks.backup_sync(user_sync.pk)
    second = tasks.backup_sync(user_sync.pk)

    assert first["updated"] == 1 and second == {}
    lease = WorkQueue.objects.get(name=backup_queue_name(user_sync.pk)).lease_until
    expected = timezone.now() + timedelta(minutes=user_sync.interval)
    assert abs((lease - expected).total_seconds()) < 60
    assert tasks.backup_run() == []


def test_backup_sync_is_due_again_when_its_interval_is_over(
    monkeypatch, memory_target, user_sync
):
    tasks.backup_sync(user_sync.pk)
    WorkQueue.objects.filter(name=backup_queue_name(user_sync.pk)).update(
        lease_until=timezone.now() - timedelta(seconds=1)
    )
    monkeypatch.setattr(tasks.backup_sync, "delay", lambda sync_id: None)

    assert tasks.backup_run() == [user_sync.pk]


def test_manual_backup_postpones_the_scheduled_one(memory_target, user_sync):
    _backup("--sync", str(user_sync.pk))
    assert tasks.backup_run() == []


def test_failed_scheduled_backup_is_logged_and_returns_nothing(
    memory_target, user_sync, caplog
):
    memory_target.refuse_with = "unreachable"
    assert tasks.backup_sync(user_sync.pk) == {}
    assert "Backup of sync" in caplog.text


# --- --fill -----------------------------------------------------------------------


@pytest.fixture
def worker(monkeypatch):
    """Between the command's looks, a worker runs a fill step and delivers."""
    from syncs import fill
    from syncs.management.commands import sync_backup

    def step(seconds):
        for state in SyncFill.objects.filter(status=SyncFill.Status.RUNNING):
            fill.fill_run(state.pk)
            OutboxEvent.objects.update(status=OutboxEvent.Status.DELIVERED)

    monkeypatch.setattr(sync_backup.time, "sleep", step)


def test_fill_sends_every_record_and_follows_the_fill_to_its_end(user_sync, worker):
    UserFactory.create_batch(3)
    out = StringIO()

    call_command("sync_backup", "--fill", "--sync", str(user_sync.pk), stdout=out)

    assert f"Sync {user_sync.pk} ({user_sync}): filled, 3 records." in out.getvalue()
    assert SyncFill.objects.get(pk=user_sync.pk).status == SyncFill.Status.DONE
    assert OutboxEvent.objects.filter(sync=user_sync).count() == 3


def test_fill_reports_a_failed_fill_as_an_error(user_sync, monkeypatch):
    from syncs.management.commands import sync_backup

    def fail(seconds):
        SyncFill.objects.update(status=SyncFill.Status.FAILED, error="b.test is down")

    monkeypatch.setattr(sync_backup.time, "sleep", fail)
    err = StringIO()

    with pytest.raises(CommandError, match="1 of 1 backups failed"):
        call_command("sync_backup", "--fill", "--sync", str(user_sync.pk), stderr=err)

    assert "fill failed: b.test is down" in err.getvalue()


def test_fill_has_no_dry_run(user_sync):
    with pytest.raises(CommandError, match="--fill sends every record"):
        call_command("sync_backup", "--fill", "--dry-run")
    assert not OutboxEvent.objects.exists()
