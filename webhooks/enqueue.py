"""Ask the worker for the webhooks app's tasks: every request for its work.

The task is found by name in the Celery app, so this module does not import
webhooks.tasks, whose task drains the inbox that asks here (no import cycle).
The app's ready() imports webhooks.tasks, which registers it.
"""

from celery import current_app


def inbox_apply() -> None:
    """Ask for SyncJob: apply the pending inbox events."""
    current_app.tasks["webhooks.tasks.inbox_apply"].delay()
