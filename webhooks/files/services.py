"""Serve the file endpoints: say what is here, take chunks, store a finished file."""

import logging
import posixpath
from pathlib import Path

from django.core.files import File
from django.core.files.storage import Storage
from django.db import models, transaction

from platforms.conf import sync_settings
from syncs.files.fields import field_storage
from syncs.files.metadata import file_digest
from syncs.registry import applying_from
from webhooks.files.allowlist import FileDestination
from webhooks.files.uploads import (
    upload_append,
    upload_complete,
    upload_discard,
    upload_path,
    upload_received,
)
from webhooks.signed import SignedRequestRefused

logger = logging.getLogger(__name__)


def stored_file_matches(*, storage: Storage, name: str, size: int, sha256: str) -> bool:
    """Tell whether ``storage`` holds a file ``name`` of this size and sha256."""
    if not name:
        return False
    try:
        if storage.size(name) != size:
            return False  # cheap, and enough to tell most files apart
        return file_digest(storage=storage, name=name) == (size, sha256)
    except Exception:  # missing or unreadable, whatever error the storage raises
        return False


def field_file_name(record: models.Model, field: models.Field) -> str:
    """Return the name of the file a record's field points at ("" for none)."""
    value = getattr(record, field.attname)
    return str(getattr(value, "name", value) or "")


def record_file_matches(record, field: models.Field, *, size: int, sha256: str) -> bool:
    """Tell whether the record's field already points at this very file."""
    return stored_file_matches(
        storage=field_storage(field),
        name=field_file_name(record, field),
        size=size,
        sha256=sha256,
    )


def _upload_of(destination: FileDestination, data: dict) -> Path:
    return upload_path(source_id=destination.source.pk, sha256=data["sha256"])


def file_check(*, destination: FileDestination, data: dict) -> dict:
    """Say whether the record holds the file, else how much of it arrived."""
    answer = _check_answer(destination=destination, data=data)
    logger.info(
        "File check from %s: %r is %s here (%d of %d bytes, sha256 %s).",
        destination.source.domain,
        data["name"],
        answer["status"],
        answer["received"],
        data["size"],
        data["sha256"],
    )
    return answer


def _check_answer(*, destination: FileDestination, data: dict) -> dict:
    size, sha256 = data["size"], data["sha256"]
    record = destination.record()
    if record and record_file_matches(
        record, destination.field, size=size, sha256=sha256
    ):
        return {"status": "present", "received": size}
    path = _upload_of(destination, data)
    received = upload_received(path)
    if received > size:  # cannot be this file's bytes: start over
        upload_discard(path)
        received = 0
    return {"status": "partial" if received else "missing", "received": received}


def file_chunk_store(*, destination: FileDestination, data: dict) -> dict:
    """Append a chunk to the file's upload; say how many bytes it holds now."""
    chunk, limit = data["data"], sync_settings.FILE_SYNC_CHUNK_SIZE
    if len(chunk) > limit:
        raise SignedRequestRefused(
            "chunk_too_large", f"Chunks may hold {limit} bytes at most.", 413
        )
    path = _upload_of(destination, data)
    received = upload_append(
        path=path, offset=data["offset"], data=chunk, size=data["size"]
    )
    logger.info(
        "File chunk from %s: %d bytes of %r at offset %d (%d of %d, sha256 %s).",
        destination.source.domain,
        len(chunk),
        data["name"],
        data["offset"],
        received,
        data["size"],
        data["sha256"],
    )
    status = "complete" if received == data["size"] else "partial"
    return {"status": status, "received": received}


def _name_for(field: models.Field, record: models.Model, name: str) -> str:
    """Return where the file goes: the field's upload_to, or the sender's path."""
    if isinstance(field, models.FileField):
        return field.generate_filename(record, posixpath.basename(name))
    return name


def _file_store(*, destination: FileDestination, record, data: dict, path: Path) -> str:
    """Store the verified upload (or reuse the same file); return its name."""
    storage, size, sha256 = destination.storage, data["size"], data["sha256"]
    name = _name_for(destination.field, record, data["name"])
    if stored_file_matches(storage=storage, name=name, size=size, sha256=sha256):
        upload_discard(path)
        return name  # the same bytes under the same name: keep them
    with upload_complete(path=path, size=size, sha256=sha256) as handle:
        content = File(handle, name=posixpath.basename(name))
        return storage.save(name, content, max_length=destination.field.max_length)


def file_finalize(*, destination: FileDestination, data: dict) -> dict:
    """Verify and store a complete upload, and point the record's field at it."""
    size, sha256 = data["size"], data["sha256"]
    path = _upload_of(destination, data)
    with transaction.atomic():
        # Locked: an event applied meanwhile must not write the old file back.
        record = destination.record(lock=True)
        if record is None:
            raise SignedRequestRefused(
                "record_missing",
                f"{destination.sync.target_model} {destination.key!r} is not here yet; "
                "finalize again once its event is applied.",
                409,
            )
        if record_file_matches(record, destination.field, size=size, sha256=sha256):
            upload_discard(path)
            return {
                "status": "present",
                "name": field_file_name(record, destination.field),
            }
        name = _file_store(destination=destination, record=record, data=data, path=path)
        setattr(record, destination.field.attname, name)
        # Passed on to where this record syncs next, but not back to its sender.
        with applying_from(destination.source.pk):
            record.save(update_fields=[destination.field.name])
    logger.info(
        "File %r from %s stored as %r for %s %r.",
        data["name"],
        destination.source.domain,
        name,
        destination.sync.target_model,
        destination.key,
    )
    return {"status": "stored", "name": name}
