"""A sync's initial fill: when it starts, what it sends, how it resumes and ends."""

from datetime import timedelta

import pytest
from django.utils import timezone

from platforms.models import PlatformRelation
from syncs import fill
from syncs.models import EventType, OutboxEvent, SyncFill
from syncs.workqueue import work_lease_take
from tests.factories import PlatformFactory, SyncFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def steps(monkeypatch):
    """The fill steps asked of the broker, by sync id."""
    asked: list[int] = []
    monkeypatch.setattr("syncs.tasks.fill_step.delay", asked.append)
    return asked


@pytest.fixture
def target(db):
    return PlatformFactory(domain="b.test")


@pytest.fixture
def users(db):
    return [UserFactory(username=f"user{i:02d}") for i in range(25)]


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr(fill, "PAGE_RECORDS", 10)


def _sync(current_platform, target, **fields):
    """Create an active sync from here without starting its fill."""
    now = timezone.now()
    sync = SyncFactory.build(
        source_platform=current_platform,
        target_platform=target,
        created_at=now,
        updated_at=now,
        **fields,
    )
    sync.save_base(raw=True)  # as loaddata does: no fill
    return sync


def _fill(sync) -> SyncFill:
    return SyncFill.objects.get(pk=sync.pk)


def _rows(sync) -> list[OutboxEvent]:
    return list(OutboxEvent.objects.filter(sync=sync).order_by("pk"))


def _deliver_all() -> None:
    OutboxEvent.objects.update(status=OutboxEvent.Status.DELIVERED)


# --- when a fill starts ---------------------------------------------------------


def test_a_sync_created_on_its_source_starts_its_fill_once_committed(
    current_platform, target, steps, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        sync = SyncFactory(source_platform=current_platform, target_platform=target)
        assert steps == []

    assert _fill(sync).status == SyncFill.Status.RUNNING
    assert steps == [sync.pk]


def test_a_sync_from_another_platform_starts_no_fill_here(
    current_platform, target, steps, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        sync = SyncFactory(source_platform=target, target_platform=current_platform)

    assert not SyncFill.objects.filter(pk=sync.pk).exists()
    assert steps == []


def test_an_inactive_sync_starts_its_fill_when_activated_and_not_on_other_saves(
    current_platform, target, steps, django_capture_on_commit_callbacks
):
    sync = SyncFactory(
        source_platform=current_platform, target_platform=target, status=False
    )
    assert not SyncFill.objects.filter(pk=sync.pk).exists()

    with django_capture_on_commit_callbacks(execute=True):
        sync.status = True
        sync.save()
        sync.title = "renamed"
        sync.save()

    assert _fill(sync).status == SyncFill.Status.RUNNING
    assert steps == [sync.pk]


def test_a_re_activated_sync_fills_again_from_its_first_record(
    current_platform, target, users, steps
):
    sync = _sync(current_platform, target)
    done = fill.fill_start(sync)
    SyncFill.objects.filter(pk=done.pk).update(
        status=SyncFill.Status.DONE, queued=25, after="99", first_outbox_pk=7
    )

    sync.status = False
    sync.save()
    sync.status = True
    sync.save()

    again = _fill(sync)
    assert (again.status, again.queued, again.after) == ("running", 0, "")
    assert again.first_outbox_pk is None and again.total is None


# --- what it sends ----------------------------------------------------------------


def test_a_fill_queues_every_record_once_in_pk_order_then_ends_when_delivered(
    current_platform, target, users, small_pages
):
    sync = _sync(current_platform, target)
    fill.fill_start(sync)

    assert fill.fill_run(sync.pk) == fill.STEP_WAIT_SECONDS  # delivery pending
    rows = _rows(sync)
    assert [row.object_pk for row in rows] == [str(user.pk) for user in users]
    assert {row.event_type for row in rows} == {EventType.CREATED}
    assert [row.object_key for row in rows[:2]] == [["user00"], ["user01"]]
    state = _fill(sync)
    assert (state.total, state.queued, state.delivered) == (25, 25, 0)
    assert state.after == str(users[-1].pk)
    assert state.first_outbox_pk == rows[0].pk

    _deliver_all()
    assert fill.fill_run(sync.pk) is None

    state = _fill(sync)
    assert (state.status, state.delivered) == (SyncFill.Status.DONE, 25)
    assert state.finished_at is not None
    assert len(_rows(sync)) == 25  # the last step queued nothing more


def test_a_fill_stays_a_window_ahead_of_delivery(
    current_platform, target, users, small_pages, settings
):
    settings.SYNC_BATCH_SIZE = 1  # a window of fill.WINDOW_BATCHES (20) records
    sync = _sync(current_platform, target)
    fill.fill_start(sync)

    assert fill.fill_run(sync.pk) == fill.STEP_WAIT_SECONDS
    assert len(_rows(sync)) == 20

    _deliver_all()
    fill.fill_run(sync.pk)
    assert len(_rows(sync)) == 25
    assert _fill(sync).delivered == 20


def test_a_fill_sends_only_the_sync_ids(current_platform, target, users):
    picked = [users[3].pk, users[17].pk]
    sync = _sync(current_platform, target, sync_ids=[str(pk) for pk in picked])
    fill.fill_start(sync)

    fill.fill_run(sync.pk)

    assert [row.object_pk for row in _rows(sync)] == [str(pk) for pk in picked]
    assert _fill(sync).total == 2


def test_a_fill_by_platform_sends_only_the_records_related_to_the_target(
    current_platform, target, users
):
    for user in users[:3]:
        PlatformRelation.objects.create(record=user, platform=target)
    sync = _sync(current_platform, target, use_platform_relations=True)
    fill.fill_start(sync)

    fill.fill_run(sync.pk)

    assert [row.object_pk for row in _rows(sync)] == [str(u.pk) for u in users[:3]]


# --- faults ---------------------------------------------------------------------


def test_a_page_cut_short_leaves_no_rows_and_the_fill_resumes_at_that_page(
    current_platform, target, users, small_pages, monkeypatch
):
    sync = _sync(current_platform, target)
    fill.fill_start(sync)
    real_write = fill.repair_write
    pages = []

    def write_then_die_on_the_second_page(*, rows):
        pages.append(len(rows))
        real_write(rows=rows)
        if len(pages) == 2:
            raise RuntimeError("worker killed")

    monkeypatch.setattr(fill, "repair_write", write_then_die_on_the_second_page)
    with pytest.raises(RuntimeError):
        fill.fill_run(sync.pk)
    assert len(_rows(sync)) == 10
    assert _fill(sync).after == str(users[9].pk)

    monkeypatch.setattr(fill, "repair_write", real_write)
    fill.fill_run(sync.pk)

    assert [row.object_pk for row in _rows(sync)] == [str(u.pk) for u in users]


def test_a_step_holding_no_lease_leaves_the_fill_to_the_one_that_does(
    current_platform, target, users
):
    sync = _sync(current_platform, target)
    fill.fill_start(sync)
    work_lease_take(fill.fill_queue_name(sync.pk))  # another worker's

    assert fill.fill_run(sync.pk) is None
    assert _rows(sync) == []


def test_a_fill_started_again_meanwhile_stops_the_step_of_the_old_one(
    current_platform, target, users, small_pages, monkeypatch
):
    sync = _sync(current_platform, target)
    fill.fill_start(sync)
    counts = fill._delivery_counts
    calls = []

    def restarted_after_the_first_page(state):
        calls.append(1)
        if len(calls) == 2:  # another process starts the fill again
            fill.fill_start(sync)
        return counts(state)

    monkeypatch.setattr(fill, "_delivery_counts", restarted_after_the_first_page)

    assert fill.fill_run(sync.pk) is None

    assert len(_rows(sync)) == 10  # the first page only
    state = _fill(sync)
    assert (state.status, state.queued, state.after) == ("running", 0, "")


def test_rows_refused_fail_the_fill_and_a_retry_sends_them_again(
    current_platform, target, users, steps, django_capture_on_commit_callbacks
):
    sync = _sync(current_platform, target)
    fill.fill_start(sync)
    fill.fill_run(sync.pk)
    _deliver_all()
    OutboxEvent.objects.filter(object_pk=str(users[4].pk)).update(
        status=OutboxEvent.Status.DEAD, last_error="b.test answered 503"
    )

    assert fill.fill_run(sync.pk) is None

    state = _fill(sync)
    assert state.status == SyncFill.Status.FAILED
    assert state.error == (
        "1 records were not delivered; the last error: b.test answered 503"
    )
    with django_capture_on_commit_callbacks(execute=False):
        assert fill.fill_retry(state) == 1
    assert _fill(sync).status == SyncFill.Status.RUNNING
    dead = OutboxEvent.objects.get(object_pk=str(users[4].pk))
    assert dead.status == OutboxEvent.Status.PENDING


def test_a_fill_whose_model_is_not_installed_fails_and_says_why(
    current_platform, target
):
    sync = _sync(current_platform, target, source_model="gone.Model")
    fill.fill_start(sync)

    assert fill.fill_run(sync.pk) is None

    state = _fill(sync)
    assert state.status == SyncFill.Status.FAILED
    assert "gone.Model is not installed here" in state.error


def test_the_relay_asks_again_for_every_running_fill_of_an_active_sync(
    current_platform, target, steps
):
    running = _sync(current_platform, target)
    paused = _sync(current_platform, PlatformFactory(), status=False)
    finished = _sync(current_platform, PlatformFactory())
    for sync in (running, paused, finished):
        fill.fill_start(sync)
    SyncFill.objects.filter(pk=finished.pk).update(status=SyncFill.Status.DONE)
    steps.clear()

    assert fill.fills_resume() == [running.pk]
    assert steps == [running.pk]


def test_a_paused_sync_pauses_its_fill(current_platform, target, users):
    sync = _sync(current_platform, target, status=False)
    fill.fill_start(sync)

    assert fill.fill_run(sync.pk) is None
    assert _rows(sync) == []


# --- progress -------------------------------------------------------------------


def test_progress_gives_the_rate_and_the_time_left(current_platform, target):
    sync = _sync(current_platform, target)
    state = fill.fill_start(sync)
    state.total, state.delivered = 1000, 250
    # Measured up to the end, here 100 s after the start (running: up to now).
    state.finished_at = state.started_at + timedelta(seconds=100)

    progress = fill.fill_progress(state)

    assert progress.percent == 25
    assert progress.rate == 2.5
    assert progress.left == timedelta(seconds=300)
