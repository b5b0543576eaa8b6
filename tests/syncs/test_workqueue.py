from datetime import timedelta

import pytest
from django.utils import timezone

from syncs.models import WorkQueue
from syncs.workqueue import work_lease_renew, work_lease_take, work_request, work_run

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


def test_renewing_a_lease_pushes_its_end():
    work_lease_take(QUEUE, seconds=5)

    work_lease_renew(QUEUE, seconds=300)

    assert _queue().lease_until > timezone.now() + timedelta(seconds=200)


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
