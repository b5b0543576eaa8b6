"""Ask for a record's files to follow it once its event is delivered."""

import logging

from django.apps import apps

from platforms.conf import sync_settings
from syncs import enqueue
from syncs.files.fields import file_resolver_for, model_file_fields
from syncs.models import EventType, OutboxEvent

logger = logging.getLogger(__name__)


def model_may_have_files(label: str) -> bool:
    """Tell whether records of a model can hold files (FileFields or a resolver)."""
    try:
        model = apps.get_model(label)
    except (LookupError, ValueError):
        return False
    return bool(model_file_fields(model)) or file_resolver_for(label) is not None


def files_transfer_request(*, rows: list[OutboxEvent]) -> int:
    """Queue a file transfer per delivered record that may hold files."""
    if not sync_settings.FILE_SYNC_ENABLED:
        return 0
    # The newest row of each record tells whether it still exists there.
    latest = {(row.sync_id, row.object_pk): row for row in rows if row.sync}
    wanted = sorted(
        key
        for key, row in latest.items()
        if row.event_type != EventType.DELETED
        and model_may_have_files(row.sync.source_model)
    )
    try:
        for sync_id, object_pk in wanted:
            enqueue.file_transfer(sync_id, object_pk)
    # The rows are delivered already; a broker error must not undo that.
    except Exception:
        logger.exception("Could not queue the files of %d record(s).", len(wanted))
    return len(wanted)
