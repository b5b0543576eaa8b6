"""Partial uploads: the bytes received so far of a file, per sender and sha256.

They live under FILE_SYNC_TEMP_DIR, outside any storage: they are not files of
this platform until finalize has checked their hash. Keyed by content, a
transfer cut short resumes from what arrived, whichever record it was for.
Writers take an exclusive lock, so two transfers of the same bytes cannot
interleave; the loser is told the offset to go on from.
"""

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from platforms.conf import sync_settings
from syncs.files.metadata import stream_digest
from webhooks.signed import SignedRequestRefused


def upload_path(*, source_id: int, sha256: str) -> Path:
    """Return where the partial upload of a file from a platform is kept."""
    return Path(sync_settings.FILE_SYNC_TEMP_DIR) / str(source_id) / f"{sha256}.part"


def upload_received(path: Path) -> int:
    """Return how many bytes of an upload have arrived."""
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


@contextmanager
def _locked(path: Path) -> Iterator[BinaryIO]:
    """Open an upload for appending under an exclusive lock (created if missing)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "ab") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)  # released when closed
        yield handle


def upload_append(*, path: Path, offset: int, data: bytes, size: int) -> int:
    """Append ``data`` at ``offset`` of an upload of ``size``; return bytes held."""
    with _locked(path) as handle:
        received = handle.seek(0, os.SEEK_END)
        if offset != received:
            raise SignedRequestRefused(
                "offset_mismatch",
                f"This upload holds {received} bytes; send from there.",
                409,
                received=received,
            )
        if offset + len(data) > size:
            raise SignedRequestRefused(
                "chunk_out_of_range",
                f"A chunk of {len(data)} bytes at {offset} passes the size {size}.",
                400,
            )
        handle.write(data)
        return received + len(data)


@contextmanager
def upload_complete(*, path: Path, size: int, sha256: str) -> Iterator[BinaryIO]:
    """Yield a complete upload for reading, locked; delete it afterwards.

    Refuse an upload that is short (409 ``incomplete``) or whose bytes do not
    hash to ``sha256`` (422 ``hash_mismatch``; it is deleted, to start over).
    """
    with _locked(path) as lock:
        received = lock.seek(0, os.SEEK_END)
        if received != size:
            if not received:
                path.unlink(missing_ok=True)  # opening it made an empty one
            raise SignedRequestRefused(
                "incomplete",
                f"This upload holds {received} of {size} bytes.",
                409,
                received=received,
            )
        with open(path, "rb") as handle:
            if stream_digest(handle)[1] != sha256:
                path.unlink(missing_ok=True)
                raise SignedRequestRefused(
                    "hash_mismatch",
                    "The bytes received do not hash to the sha256 given; "
                    "the upload is discarded, send it again.",
                    422,
                )
            handle.seek(0)
            yield handle
        path.unlink(missing_ok=True)


def upload_discard(path: Path) -> None:
    """Delete a partial upload that is no longer needed."""
    path.unlink(missing_ok=True)


def uploads_stale_purge(*, max_age: float) -> int:
    """Delete the partial uploads no chunk reached for ``max_age`` seconds.

    A sender that never finishes (or names made-up hashes) leaves its partial
    uploads behind; a transfer resumed later starts over. Return how many
    were deleted.
    """
    cutoff = time.time() - max_age
    root = Path(sync_settings.FILE_SYNC_TEMP_DIR)
    return sum(_stale_delete(path, cutoff) for path in root.glob("*/*.part"))


def _stale_delete(path: Path, cutoff: float) -> bool:
    try:
        with open(path, "ab") as handle:
            # A chunk being written now holds the lock: not stale, skip it.
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            if os.fstat(handle.fileno()).st_mtime >= cutoff:
                return False
            path.unlink()
            return True
    except (BlockingIOError, FileNotFoundError):
        return False
