import email.utils
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from platforms.signing import signature_verify
from platforms.transport import PLATFORM_HEADER
from syncs.delivery import outbox_drain
from syncs.models import OutboxEvent, WorkQueue
from syncs.outbox import outbox_queue_name
from syncs.tasks import outbox_deliver
from tests.factories import PlatformFactory, SyncFactory, UserFactory, outbox_event
from tests.syncs.webhook_peer import Answer, WebhookPeer, closed_domain

pytestmark = pytest.mark.django_db

Status = OutboxEvent.Status


@pytest.fixture(autouse=True)
def _retry_policy(settings):
    """Pin the retry settings the timing assertions rely on."""
    settings.SYNC_RETRY_BASE_SECONDS = 2.0
    settings.SYNC_RETRY_MAX_SECONDS = 600.0
    settings.SYNC_MAX_ATTEMPTS = 10
    settings.SYNC_HTTP_TIMEOUT = 5.0


@pytest.fixture
def peer():
    with WebhookPeer() as peer:
        yield peer


@pytest.fixture
def target(peer):
    return PlatformFactory(name="B", domain=peer.domain, scheme="http")


@pytest.fixture
def user_sync(current_platform, target):
    return SyncFactory(source_platform=current_platform, target_platform=target)


def _drain(target) -> float | None:
    return outbox_drain(platform_id=target.pk, queue=outbox_queue_name(target.pk))


def _rows() -> list[OutboxEvent]:
    return list(OutboxEvent.objects.order_by("pk"))


def _users(*names: str) -> list:
    return [UserFactory(username=name) for name in names]


def _seconds_until(moment) -> float:
    return (moment - timezone.now()).total_seconds()


def test_batch_is_one_signed_post_and_its_rows_are_delivered(
    current_platform, target, peer, user_sync
):
    _users("ada", "bob", "carl")

    assert _drain(target) is None

    (request,) = peer.requests
    assert request.path == "/sync-webhook"
    assert request.headers["content-type"] == "application/json"
    assert request.headers[PLATFORM_HEADER.lower()] == "a.test"
    assert request.headers["webhook-id"].startswith("msg_")
    signature_verify(
        secrets=[current_platform.signing_secret],
        msg_id=request.headers["webhook-id"],
        timestamp=request.headers["webhook-timestamp"],
        signature_header=request.headers["webhook-signature"],
        body=request.body,
        tolerance=300,
    )
    assert request.json()["source"] == "a.test"
    assert [e["key"] for e in request.json()["events"]] == [["ada"], ["bob"], ["carl"]]
    for row in _rows():
        assert row.status == Status.DELIVERED
        assert row.attempts == 1
        assert row.delivered_at is not None
        assert row.last_error == ""


def test_batches_respect_the_batch_size_and_the_order_of_rows(
    settings, target, peer, user_sync
):
    settings.SYNC_BATCH_SIZE = 2
    _users("u1", "u2", "u3", "u4", "u5")

    assert _drain(target) is None

    batches = [[e["key"][0] for e in r.json()["events"]] for r in peer.requests]
    assert batches == [["u1", "u2"], ["u3", "u4"], ["u5"]]
    assert {row.status for row in _rows()} == {Status.DELIVERED}


def test_nothing_pending_sends_nothing(target, peer, user_sync):
    assert _drain(target) is None

    assert peer.requests == []


def test_server_error_leaves_rows_pending_for_a_later_attempt(target, peer, user_sync):
    _users("ada", "bob")
    peer.answer(Answer(500, body=b'{"error": "boom"}'))

    wait = _drain(target)

    assert len(peer.requests) == 1
    # First retry: base 2 s with jitter, so between 1 and 2 seconds.
    assert 0 < wait <= 2
    for row in _rows():
        assert row.status == Status.PENDING
        assert row.attempts == 1
        assert 0 < _seconds_until(row.next_attempt_at) <= 2
        assert "answered 500" in row.last_error
        assert '{"error": "boom"}' in row.last_error


def test_backoff_grows_with_the_attempts(target, peer, user_sync):
    _users("ada")
    OutboxEvent.objects.update(attempts=4)
    peer.answer(Answer(503))

    _drain(target)

    (row,) = _rows()
    assert row.attempts == 5
    # 2 s * 2**4 = 32 s ceiling, jittered down to no less than half of it.
    assert 15 < _seconds_until(row.next_attempt_at) <= 32


def test_too_many_requests_waits_as_long_as_retry_after_says(target, peer, user_sync):
    _users("ada")
    peer.answer(Answer(429, headers={"Retry-After": "7"}))

    wait = _drain(target)

    (row,) = _rows()
    assert row.status == Status.PENDING
    assert row.attempts == 1
    assert 6 < _seconds_until(row.next_attempt_at) <= 7
    assert 6 < wait <= 7


def test_retry_after_as_an_http_date_is_honoured(target, peer, user_sync):
    _users("ada")
    when = email.utils.formatdate(time.time() + 60, usegmt=True)
    peer.answer(Answer(503, headers={"Retry-After": when}))

    _drain(target)

    (row,) = _rows()
    assert 55 < _seconds_until(row.next_attempt_at) <= 60


def test_malformed_retry_after_falls_back_to_the_backoff(target, peer, user_sync):
    _users("ada")
    peer.answer(Answer(503, headers={"Retry-After": "soon, promise"}))

    wait = _drain(target)

    (row,) = _rows()
    assert row.status == Status.PENDING
    assert row.attempts == 1
    assert 0 < wait <= 2


def test_refused_connection_is_retried_later(current_platform):
    target = PlatformFactory(name="B", domain=closed_domain(), scheme="http")
    SyncFactory(source_platform=current_platform, target_platform=target)
    _users("ada")

    wait = _drain(target)

    (row,) = _rows()
    assert row.status == Status.PENDING
    assert row.attempts == 1
    assert target.base_url in row.last_error
    assert 0 < wait <= 2


def test_rows_are_dead_after_the_last_attempt(settings, target, peer, user_sync):
    settings.SYNC_MAX_ATTEMPTS = 2
    peer.default = Answer(503)
    _users("ada")

    _drain(target)
    OutboxEvent.objects.update(next_attempt_at=timezone.now())  # time passes
    _drain(target)

    (row,) = _rows()
    assert row.status == Status.DEAD
    assert row.attempts == 2
    assert "answered 503" in row.last_error
    assert _drain(target) is None
    assert len(peer.requests) == 2


def test_refused_batch_is_resent_row_by_row_so_only_the_bad_row_fails(
    target, peer, user_sync
):
    _users("ada", "bob", "carl")
    refusal = b'{"error": "invalid_event", "detail": "bob is not welcome"}'
    peer.answer_bodies_with(b'["bob"]', Answer(400, body=refusal))

    assert _drain(target) is None

    sent = [[e["key"][0] for e in r.json()["events"]] for r in peer.requests]
    assert sent == [["ada", "bob", "carl"], ["ada"], ["bob"], ["carl"]]
    ada, bob, carl = _rows()
    assert (ada.status, carl.status) == (Status.DELIVERED, Status.DELIVERED)
    assert bob.status == Status.FAILED
    assert bob.attempts == 1
    assert "answered 400" in bob.last_error
    assert "bob is not welcome" in bob.last_error


def test_refused_single_row_fails_at_once(target, peer, user_sync):
    _users("ada")
    peer.answer(Answer(422, body=b'{"error": "unknown_field", "detail": "x"}'))

    assert _drain(target) is None

    (row,) = _rows()
    assert row.status == Status.FAILED
    assert len(peer.requests) == 1


def test_retryable_failure_while_resending_row_by_row_holds_the_rows_behind_it(
    target, peer, user_sync
):
    _users("ada", "bob", "carl")
    # The batch is refused; ada then goes through and the target falls over.
    peer.answer(Answer(400), Answer(202), Answer(503))

    wait = _drain(target)

    assert len(peer.requests) == 3
    ada, bob, carl = _rows()
    assert ada.status == Status.DELIVERED
    assert (bob.status, bob.attempts) == (Status.PENDING, 1)
    assert (carl.status, carl.attempts) == (Status.PENDING, 0)
    assert 0 < wait <= 2
    assert wait == pytest.approx(_seconds_until(bob.next_attempt_at), abs=0.5)


def test_waiting_head_returns_its_wait_and_nothing_overtakes_it(
    target, peer, user_sync
):
    _users("ada", "bob")
    head = _rows()[0]
    OutboxEvent.objects.filter(pk=head.pk).update(
        next_attempt_at=timezone.now() + timedelta(seconds=30)
    )

    wait = _drain(target)

    assert 29 < wait <= 30
    assert peer.requests == []
    assert {row.status for row in _rows()} == {Status.PENDING}


def test_due_rows_before_a_waiting_row_are_sent_alone(target, peer, user_sync):
    _users("ada", "bob", "carl")
    OutboxEvent.objects.filter(object_key=["bob"]).update(
        next_attempt_at=timezone.now() + timedelta(seconds=30)
    )

    wait = _drain(target)

    assert 29 < wait <= 30
    (request,) = peer.requests
    assert [e["key"] for e in request.json()["events"]] == [["ada"]]
    assert [row.status for row in _rows()] == [
        Status.DELIVERED,
        Status.PENDING,
        Status.PENDING,
    ]


def test_row_whose_sync_is_gone_fails_and_does_not_hold_up_the_others(
    target, peer, user_sync
):
    (ada,) = _users("ada")
    ghost = outbox_event(user_sync, ["ada"], object_pk=str(ada.pk))
    # Recorded by a process that had not yet heard the sync was deleted.
    OutboxEvent.objects.filter(pk=ghost.pk).update(sync_id=user_sync.pk + 1000)
    _users("bob")

    assert _drain(target) is None

    (request,) = peer.requests
    assert [e["key"] for e in request.json()["events"]] == [["ada"], ["bob"]]
    ghost.refresh_from_db()
    assert ghost.status == Status.FAILED
    assert ghost.last_error == "Its sync no longer exists."
    assert OutboxEvent.objects.filter(status=Status.DELIVERED).count() == 2


def test_rows_of_other_targets_are_left_alone(current_platform, target, peer):
    SyncFactory(source_platform=current_platform, target_platform=target)
    elsewhere = PlatformFactory(name="C", domain=closed_domain(), scheme="http")
    SyncFactory(source_platform=current_platform, target_platform=elsewhere)
    _users("ada")

    _drain(target)

    statuses = {row.target_platform_id: row.status for row in _rows()}
    assert statuses == {target.pk: Status.DELIVERED, elsewhere.pk: Status.PENDING}
    assert OutboxEvent.objects.get(target_platform=elsewhere).attempts == 0


def test_without_the_current_platform_row_nothing_is_sent(settings, target, peer):
    SyncFactory(source_platform=PlatformFactory(), target_platform=target)
    settings.SYNC_PLATFORM_DOMAIN = "unknown.test"

    assert _drain(target) is None

    assert peer.requests == []


def test_deliver_task_drains_under_the_queue_lease(target, peer, user_sync):
    _users("ada")
    queue = outbox_queue_name(target.pk)
    WorkQueue.objects.create(name=queue, requested=True)

    outbox_deliver(target.pk)

    assert len(peer.requests) == 1
    (row,) = _rows()
    assert row.status == Status.DELIVERED
    work_queue = WorkQueue.objects.get(name=queue)
    assert (work_queue.requested, work_queue.lease_until) == (False, None)
