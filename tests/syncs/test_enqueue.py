"""syncs.enqueue: each request reaches its task, found by name in the Celery app."""

from syncs import enqueue, tasks


def _record(monkeypatch, task) -> list[tuple]:
    """Replace the task's publishing with a list of what it was asked."""
    asked: list[tuple] = []
    monkeypatch.setattr(task, "delay", lambda *args: asked.append(args))
    monkeypatch.setattr(
        task, "apply_async", lambda args=(), **options: asked.append((args, options))
    )
    return asked


def test_a_request_now_publishes_the_task_with_its_arguments(monkeypatch):
    deliver = _record(monkeypatch, tasks.outbox_deliver)
    transfer = _record(monkeypatch, tasks.file_transfer)
    step = _record(monkeypatch, tasks.fill_step)
    backup = _record(monkeypatch, tasks.backup_sync)

    enqueue.outbox_deliver(3)
    enqueue.file_transfer(4, "17")
    enqueue.fill_step(5)
    enqueue.backup_sync(6)

    assert (deliver, transfer, step, backup) == ([(3,)], [(4, "17")], [(5,)], [(6,)])


def test_a_request_for_later_publishes_the_task_with_a_countdown(monkeypatch):
    deliver = _record(monkeypatch, tasks.outbox_deliver)
    step = _record(monkeypatch, tasks.fill_step)
    push = _record(monkeypatch, tasks.syncs_push)

    enqueue.outbox_deliver_in(3, 0.5)
    enqueue.fill_step_in(5, 2.0)
    enqueue.syncs_push_in(1.0)

    assert deliver == [((3,), {"countdown": 0.5})]
    assert step == [((5,), {"countdown": 2.0})]
    assert push == [((), {"countdown": 1.0})]
