"""Which files may travel: the rules both the sender and the receiver apply."""

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from platforms.conf import sync_settings

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class FileRefusal:
    """Why a file may not be synced, as an error code and a sentence."""

    code: str
    detail: str


def file_extension(name: str) -> str:
    """Return a file name's extension, lower-case and without the dot."""
    return PurePosixPath(name).suffix.lower().removeprefix(".")


def file_refusal(*, name: str, size: int | None) -> FileRefusal | None:
    """Return why the file ``name`` of ``size`` bytes may not travel, or None."""
    allowed = {
        e.lower().removeprefix(".") for e in sync_settings.FILE_SYNC_ALLOWED_EXTENSIONS
    }
    extension = file_extension(name)
    if extension not in allowed:
        return FileRefusal(
            "extension_not_allowed",
            f"{PurePosixPath(name).name!r}: the extension {extension or '(none)'!r} "
            "is not in FILE_SYNC_ALLOWED_EXTENSIONS.",
        )
    if size is not None and size > sync_settings.FILE_SYNC_MAX_SIZE:
        return FileRefusal(
            "file_too_large",
            f"{PurePosixPath(name).name!r}: {size} bytes exceed FILE_SYNC_MAX_SIZE "
            f"({sync_settings.FILE_SYNC_MAX_SIZE} bytes).",
        )
    return None
