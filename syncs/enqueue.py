"""Ask the worker for the syncs app's tasks: every request for its work.

The tasks are found by name in the Celery app, so this module does not import
syncs.tasks, whose tasks run the services that ask here (no import cycle).
The app's ready() imports syncs.tasks, which registers them.
"""

from celery import current_app


def _task(name: str):
    return current_app.tasks[f"syncs.tasks.{name}"]


def outbox_deliver(platform_id: int) -> None:
    """Ask for the delivery of one target's pending outbox rows."""
    _task("outbox_deliver").delay(platform_id)


def outbox_deliver_in(platform_id: int, seconds: float) -> None:
    """Ask for the delivery of one target's outbox in ``seconds``."""
    _task("outbox_deliver").apply_async((platform_id,), countdown=seconds)


def file_transfer(sync_id: int, object_pk: str) -> None:
    """Ask for the files of one delivered record to follow it."""
    _task("file_transfer").delay(sync_id, object_pk)


def fill_step(sync_id: int) -> None:
    """Ask for the next step of a sync's initial fill."""
    _task("fill_step").delay(sync_id)


def fill_step_in(sync_id: int, seconds: float) -> None:
    """Ask for the next step of a sync's initial fill in ``seconds``."""
    _task("fill_step").apply_async((sync_id,), countdown=seconds)


def backup_sync(sync_id: int) -> None:
    """Ask for the backup of one sync."""
    _task("backup_sync").delay(sync_id)


def syncs_push_in(seconds: float) -> None:
    """Ask for a push of the platform list and the syncs in ``seconds``."""
    _task("syncs_push").apply_async(countdown=seconds)
