"""Describe a record's files (name, size, sha256) as events carry them.

In an event's data a file field's value becomes ``{"name", "size", "sha256"}``,
or ``{"name", "size", "refused"}`` for a file that will not travel (wrong
extension, too large, unreadable, over FILE_SYNC_MAX_FILES_PER_RECORD). The
receiver never stores these values: it keeps the file it holds until the
transfer's finalize points the field at the new one.
"""

import hashlib
import logging
from dataclasses import dataclass
from typing import BinaryIO

from django.core.files.storage import Storage
from django.db import models

from platforms.conf import sync_settings
from syncs.files.fields import field_storage, record_files
from syncs.files.policy import SHA256_RE, FileRefusal, file_refusal

logger = logging.getLogger(__name__)
METADATA_KEYS = frozenset({"name", "size", "sha256", "refused"})
DIGEST_READ_SIZE = 64 * 1024


@dataclass(frozen=True)
class FileDescription:
    """One file of a record: its field, storage name, size and hash, or a refusal."""

    field: str
    name: str
    size: int | None = None
    sha256: str = ""
    refusal: FileRefusal | None = None

    def as_data(self) -> dict:
        """Return the value the file's field carries in an event."""
        if self.refusal:
            return {"name": self.name, "size": self.size, "refused": self.refusal.code}
        return {"name": self.name, "size": self.size, "sha256": self.sha256}


def stream_digest(handle: BinaryIO) -> tuple[int, str]:
    """Return the size and sha256 hex digest of what is left in an open file."""
    digest, size = hashlib.sha256(), 0
    while chunk := handle.read(DIGEST_READ_SIZE):
        digest.update(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


def file_digest(*, storage: Storage, name: str) -> tuple[int, str]:
    """Return the size and sha256 hex digest of a stored file, read once."""
    with storage.open(name, "rb") as handle:
        return stream_digest(handle)


def file_describe(*, field: models.Field, name: str) -> FileDescription:
    """Describe the file ``name`` of ``field``, hashing it unless it is refused."""
    storage = field_storage(field)
    try:
        size = storage.size(name)
        if refusal := file_refusal(name=name, size=size):
            return FileDescription(field.name, name, size, refusal=refusal)
        size, sha256 = file_digest(storage=storage, name=name)
    # Any storage's error: an unreadable file must not hold up its record's event.
    except Exception as exc:
        detail = f"{name!r} cannot be read from storage: {type(exc).__name__}: {exc}"
        return FileDescription(
            field.name, name, refusal=FileRefusal("unreadable", detail)
        )
    return FileDescription(field.name, name, size, sha256)


def record_files_describe(record: models.Model) -> list[FileDescription]:
    """Describe the files of ``record``; past the per-record limit, refuse them."""
    files = record_files(record)
    limit = sync_settings.FILE_SYNC_MAX_FILES_PER_RECORD
    described = [file_describe(field=f, name=name) for f, name in files[:limit]]
    over = FileRefusal(
        "too_many_files",
        f"{record._meta.label} {record.pk} has more than {limit} files "
        "(FILE_SYNC_MAX_FILES_PER_RECORD).",
    )
    return described + [
        FileDescription(field.name, name, refusal=over) for field, name in files[limit:]
    ]


def event_data_with_files(*, record: models.Model, data: dict) -> dict:
    """Return ``data`` with each file field's value replaced by its description."""
    described = record_files_describe(record)
    return data | {d.field: d.as_data() for d in described if d.field in data}


def file_metadata_read(value) -> dict | None:
    """Return ``value`` if it is a file description as events carry it, else None."""
    if not (
        isinstance(value, dict)
        and set(value) <= METADATA_KEYS
        and isinstance(value.get("name"), str)
    ):
        return None
    if "refused" in value:
        return value
    size, sha256 = value.get("size"), value.get("sha256")
    sized = isinstance(size, int) and not isinstance(size, bool) and size >= 0
    if sized and isinstance(sha256, str) and SHA256_RE.match(sha256):
        return value
    return None
