from contextvars import Context
from datetime import timedelta

import pytest
from django.utils import timezone

from platforms.conf import sync_settings
from syncs import workqueue
from syncs.models import WorkQueue
from syncs.workqueue import (
    LeaseLost,
    work_lease_renew,
    work_lease_take,
    work_request,
    work_run,
)

pytestmark = pytest.mark.django_db

QUEUE = "outbox:1"


class Publisher:
    """A publish function that records its calls instead of using a broker."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1


def _queue() -> WorkQueue:
    return WorkQueue.objects.get(name=QUEUE)


def test_burst_of_requests_publishes_once():
    publish = Publisher()

    for _ in range(1000):
        work_request(QUEUE, publish)

    assert publish.calls == 1
    assert _queue().requested is True


def test_request_publishes_again_after_a_worker_cleared_the_flag():
    publish = Publisher()
    work_request(QUEUE, publish)

    work_run(QUEUE, drain=lambda: None)
    assert _queue().requested is False
    work_request(QUEUE, publish)
    work_request(QUEUE, publish)

    assert publish.calls == 2


def test_failed_publish_leaves_the_flag_clear_so_the_next_request_publishes():
    def broker_down() -> None:
        raise ConnectionError("broker down")

    with pytest.raises(ConnectionError):
        work_request(QUEUE, broker_down)
    assert _queue().requested is False

    publish = Publisher()
    work_request(QUEUE, publish)
    assert publish.calls == 1


def test_lease_is_refused_to_a_second_holder_until_released():
    assert work_lease_take(QUEUE) is True
    assert work_lease_take(QUEUE) is False

    WorkQueue.objects.filter(name=QUEUE).update(lease_until=None)  # as work_run does

    assert work_lease_take(QUEUE) is True


def test_expired_lease_can_be_taken_by_another_worker():
    assert work_lease_take(QUEUE) is True
    WorkQueue.objects.filter(name=QUEUE).update(
        lease_until=timezone.now() - timedelta(seconds=1)
    )

    assert work_lease_take(QUEUE) is True
    assert _queue().lease_until > timezone.now() + timedelta(seconds=60)


def test_renewing_a_lease_pushes_its_end(settings):
    settings.SYNC_LEASE_SECONDS = 5
    ends = []

    def drain() -> None:
        work_lease_renew(QUEUE, seconds=300)
        ends.append(_queue().lease_until)

    work_run(QUEUE, drain)

    assert ends[0] > timezone.now() + timedelta(seconds=200)


def test_renewing_outside_a_run_touches_no_lease():
    work_lease_take(QUEUE, seconds=5)
    end = _queue().lease_until

    work_lease_renew(QUEUE, seconds=300)  # a drain called by hand: no lease held

    assert _queue().lease_until == end


def test_run_drains_clears_the_request_and_releases_the_lease():
    work_request(QUEUE, Publisher())
    drained = []

    work_run(QUEUE, drain=lambda: drained.append(_queue().requested))

    # The flag is cleared before the drain, so later commits publish again.
    assert drained == [False]
    queue = _queue()
    assert queue.requested is False
    assert queue.lease_until is None


def test_run_drains_again_when_a_request_arrives_during_a_drain():
    publish = Publisher()
    work_request(QUEUE, publish)
    drains = []

    def drain() -> None:
        drains.append(1)
        if len(drains) == 1:
            work_request(QUEUE, publish)  # a commit while the lease is held

    work_run(QUEUE, drain)

    assert len(drains) == 2
    assert publish.calls == 2
    assert _queue().requested is False


def test_run_leaves_the_queue_to_the_worker_holding_the_lease():
    work_request(QUEUE, Publisher())
    work_lease_take(QUEUE)
    drains = []

    work_run(QUEUE, drain=lambda: drains.append(1))

    assert drains == []
    assert _queue().requested is True  # the holder drains it after its release


def test_run_releases_the_lease_when_the_drain_fails():
    def drain() -> None:
        raise RuntimeError("target exploded")

    with pytest.raises(RuntimeError):
        work_run(QUEUE, drain)

    assert _queue().lease_until is None
    assert work_lease_take(QUEUE) is True


# --- owned leases: a worker paused past its lease ---------------------------------


@pytest.fixture
def clock(monkeypatch):
    """The work queue's clock, which a test moves forward (a worker's pause)."""

    class Clock:
        offset = timedelta()

        def now(self):
            return timezone.now() + self.offset

        def pause(self, seconds: float) -> None:
            self.offset += timedelta(seconds=seconds)

    moved = Clock()
    monkeypatch.setattr(workqueue, "timezone", moved)
    return moved


def _worker() -> Context:
    """A worker of its own: the leases it holds live in its own context."""
    return Context()


def test_paused_worker_can_neither_renew_nor_release_a_lease_taken_over(clock):
    seen = {}

    def paused_drain() -> None:
        clock.pause(sync_settings.SYNC_LEASE_SECONDS + 1)  # this worker stalls
        assert _worker().run(work_lease_take, QUEUE) is True  # another takes over
        assert _worker().run(work_lease_take, QUEUE) is False  # a third waits
        seen["taken over"] = _queue().lease_until
        with pytest.raises(LeaseLost):
            work_lease_renew(QUEUE)
        seen["after renewing"] = _queue().lease_until
        raise LeaseLost("as a drain that renews after its batch does")

    _worker().run(work_run, QUEUE, paused_drain)

    assert seen["after renewing"] == seen["taken over"]
    assert _queue().lease_until == seen["taken over"]  # not released by the paused


def test_paused_drain_stops_and_leaves_the_queue_to_the_drainer_that_took_over(clock):
    work_request(QUEUE, Publisher())
    log = []

    def other_drain() -> None:
        log.append("other")

    def drainer_drain() -> None:
        log.append("drainer")
        # A second drainer while this one holds the lease: it leaves it alone.
        _worker().run(work_run, QUEUE, other_drain)
        work_lease_renew(QUEUE)
        log.append(("drainer holds", _queue().lease_until is not None))

    def paused_drain() -> None:
        log.append("paused")
        clock.pause(sync_settings.SYNC_LEASE_SECONDS + 1)
        work_request(QUEUE, Publisher())  # a commit during the pause
        _worker().run(work_run, QUEUE, drainer_drain)
        work_lease_renew(QUEUE)  # the paused worker wakes up: LeaseLost
        log.append("paused renewed")

    _worker().run(work_run, QUEUE, paused_drain)

    assert log == ["paused", "drainer", ("drainer holds", True)]
    queue = _queue()
    assert (queue.requested, queue.lease_until) == (False, None)


def test_run_of_a_paused_worker_does_not_clear_a_request_it_no_longer_serves(clock):
    """The flag cleared by a worker that lost the lease would lose a request."""
    work_request(QUEUE, Publisher())
    drains = []

    def paused_drain() -> None:
        drains.append("paused")
        clock.pause(sync_settings.SYNC_LEASE_SECONDS + 1)
        assert _worker().run(work_lease_take, QUEUE) is True  # held, not drained
        work_request(QUEUE, Publisher())
        work_lease_renew(QUEUE)

    _worker().run(work_run, QUEUE, paused_drain)

    assert drains == ["paused"]
    assert _queue().requested is True  # left for the worker that took over
    assert _queue().lease_until is not None
