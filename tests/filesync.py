"""Helpers of the file sync tests: settings, documents with files, signed requests."""

import hashlib
import json

import pytest
from django.core.files.base import ContentFile

from demoapp.models import Document
from syncs.files.transfer import files_url_path
from tests.webhooks.signed import signed_headers

CONTENT = b"The quick brown fox jumps over the dog."  # 39 bytes: 10 chunks of 4


@pytest.fixture
def file_sync(settings, tmp_path):
    """File sync on, small limits, media and uploads in a temporary folder."""
    settings.FILE_SYNC_ENABLED = True
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.FILE_SYNC_TEMP_DIR = tmp_path / "uploads"
    settings.FILE_SYNC_ALLOWED_EXTENSIONS = ["txt", "png"]
    settings.FILE_SYNC_MAX_SIZE = 64
    settings.FILE_SYNC_CHUNK_SIZE = 4
    settings.FILE_SYNC_MAX_FILES_PER_RECORD = 10
    settings.FILE_SYNC_RESOLVERS = {}
    return settings


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def document(slug: str, **files: tuple[str, bytes]) -> Document:
    """Create a Document whose fields hold files: field=(file name, bytes)."""
    record = Document(slug=slug, title=slug.title())
    for field, (name, content) in files.items():
        getattr(record, field).save(name, ContentFile(content), save=False)
    record.save()
    return record


def stored_bytes(field_file) -> bytes:
    """Return the bytes of the file a FieldFile points at."""
    with field_file.storage.open(field_file.name, "rb") as handle:
        return handle.read()


def file_body(
    content: bytes = CONTENT, *, name="report.txt", key="doc", field="attachment"
) -> dict:
    """Return the fields every file request about ``content`` carries."""
    return {
        "model": "demoapp.Document",
        "source_model": "demoapp.Document",
        "key": key,
        "field": field,
        "name": name,
        "size": len(content),
        "sha256": sha256(content),
    }


def file_post(client, action: str, payload: dict, *, sender, headers=None):
    """POST a file request signed by ``sender``, as a source platform does."""
    body = json.dumps(payload).encode()
    signed = signed_headers(body, secret=sender.signing_secret, domain=sender.domain)
    return client.post(
        files_url_path(action),
        data=body,
        content_type="application/json",
        headers=signed | (headers or {}),
    )
