"""The file endpoints: who may send, what is refused, resuming, finalizing."""

import base64
import logging

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from demoapp.models import Document
from platforms.credentials import signing_secret_generate
from syncs.files.transfer import files_url_path
from tests.factories import PlatformFactory
from tests.filesync import (  # noqa: F401  (fixtures)
    CONTENT,
    document,
    file_body,
    file_post,
    file_sync,
    sha256,
    stored_bytes,
)
from webhooks.files.uploads import upload_path

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("file_sync")]


@pytest.fixture
def doc(doc_sync):
    """The target's record the files are for (its event is applied already)."""
    return Document.objects.create(slug="doc", title="Doc")


def _chunk(content: bytes, offset: int, size: int = 4, **body) -> dict:
    data = content[offset : offset + size]
    return file_body(content, **body) | {
        "offset": offset,
        "data": base64.b64encode(data).decode(),
    }


def _send(client, source, content: bytes, start: int = 0, stop: int | None = None):
    """Send the chunks of ``content`` from ``start`` up to ``stop``."""
    stop = len(content) if stop is None else stop
    for offset in range(start, stop, 4):
        response = file_post(client, "chunk", _chunk(content, offset), sender=source)
        assert response.status_code == 200, response.json()
    return response


def _refused(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"] == code
    assert body["detail"]
    return body


def _upload(source, content: bytes = CONTENT):
    return upload_path(source_id=source.pk, sha256=sha256(content))


# --- a transfer from start to end --------------------------------------------------


def test_check_says_missing_for_a_file_never_sent(client, source, doc):
    response = file_post(client, "check", file_body(), sender=source)

    assert response.status_code == 200
    assert response.json() == {"status": "missing", "received": 0}


def test_chunks_then_finalize_store_the_file_and_point_the_record_at_it(
    client, source, doc
):
    last = _send(client, source, CONTENT)
    assert last.json() == {"status": "complete", "received": len(CONTENT)}

    response = file_post(client, "finalize", file_body(), sender=source)

    assert response.status_code == 200
    assert response.json() == {"status": "stored", "name": "documents/report.txt"}
    doc.refresh_from_db()
    assert doc.attachment.name == "documents/report.txt"
    assert stored_bytes(doc.attachment) == CONTENT
    assert not _upload(source).exists()


def test_an_interrupted_transfer_resumes_from_the_bytes_received(client, source, doc):
    _send(client, source, CONTENT, stop=12)

    check = file_post(client, "check", file_body(), sender=source)
    assert check.json() == {"status": "partial", "received": 12}
    _send(client, source, CONTENT, start=12)
    response = file_post(client, "finalize", file_body(), sender=source)

    assert response.status_code == 200
    doc.refresh_from_db()
    assert stored_bytes(doc.attachment) == CONTENT


def test_a_chunk_at_another_offset_is_409_with_the_offset_to_go_on_from(
    client, source, doc
):
    _send(client, source, CONTENT, stop=8)

    again = file_post(client, "chunk", _chunk(CONTENT, 4), sender=source)
    ahead = file_post(client, "chunk", _chunk(CONTENT, 16), sender=source)

    assert _refused(again, 409, "offset_mismatch")["received"] == 8
    assert _refused(ahead, 409, "offset_mismatch")["received"] == 8
    assert _upload(source).read_bytes() == CONTENT[:8]


def test_check_says_present_when_the_record_holds_the_same_file(
    client, source, doc_sync
):
    document("doc", attachment=("elsewhere.txt", CONTENT))

    response = file_post(client, "check", file_body(), sender=source)

    assert response.json() == {"status": "present", "received": len(CONTENT)}


def test_a_changed_file_is_stored_beside_the_old_one_and_replaces_it(
    client, source, doc_sync
):
    doc = document("doc", attachment=("report.txt", b"old bytes"))

    _send(client, source, CONTENT)
    response = file_post(client, "finalize", file_body(), sender=source)

    doc.refresh_from_db()
    assert doc.attachment.name == response.json()["name"]
    assert doc.attachment.name != "documents/report.txt"  # Django's free name
    assert stored_bytes(doc.attachment) == CONTENT
    assert default_storage.exists("documents/report.txt")  # kept, as Django does


def test_finalize_reuses_an_identical_file_stored_under_the_same_name(
    client, source, doc
):
    default_storage.save("documents/report.txt", ContentFile(CONTENT))
    _send(client, source, CONTENT)

    response = file_post(client, "finalize", file_body(), sender=source)

    assert response.json() == {"status": "stored", "name": "documents/report.txt"}
    assert default_storage.listdir("documents")[1] == ["report.txt"]


def test_an_empty_file_needs_no_chunks(client, source, doc):
    response = file_post(
        client, "finalize", file_body(b"", name="e.txt"), sender=source
    )

    assert response.status_code == 200
    doc.refresh_from_db()
    assert doc.attachment.name == "documents/e.txt"
    assert stored_bytes(doc.attachment) == b""


# --- finalize refusals ---------------------------------------------------------------


def test_finalize_with_a_wrong_hash_is_422_and_stores_nothing(client, source, doc):
    forged = CONTENT[:-1] + b"!"
    claimed = file_body(CONTENT)
    for offset in range(0, len(forged), 4):
        chunk = _chunk(forged, offset) | {"sha256": claimed["sha256"]}
        assert file_post(client, "chunk", chunk, sender=source).status_code == 200

    response = file_post(client, "finalize", claimed, sender=source)

    _refused(response, 422, "hash_mismatch")
    doc.refresh_from_db()
    assert doc.attachment.name == ""
    assert not default_storage.exists("documents/report.txt")
    assert not _upload(source).exists()  # discarded: the next try starts over


def test_finalize_before_the_record_arrived_is_409_and_keeps_the_upload(
    client, source, doc_sync
):
    _send(client, source, CONTENT)

    response = file_post(client, "finalize", file_body(), sender=source)

    _refused(response, 409, "record_missing")
    assert _upload(source).read_bytes() == CONTENT
    assert not default_storage.exists("documents/report.txt")


def test_finalize_before_every_byte_arrived_is_409_incomplete(client, source, doc):
    _send(client, source, CONTENT, stop=8)

    response = file_post(client, "finalize", file_body(), sender=source)

    assert _refused(response, 409, "incomplete")["received"] == 8
    doc.refresh_from_db()
    assert doc.attachment.name == ""


def test_a_chunk_past_the_declared_size_is_400(client, source, doc):
    body = _chunk(CONTENT, 0) | {"size": 2}
    _refused(file_post(client, "chunk", body, sender=source), 400, "chunk_out_of_range")


# --- policy: extension and size ------------------------------------------------


@pytest.mark.parametrize("action", ["check", "chunk", "finalize"])
def test_a_file_over_the_size_limit_is_413_and_the_reason_logged(
    client, source, doc, action, caplog
):
    big = b"x" * 65
    body = _chunk(big, 0) if action == "chunk" else file_body(big)

    with caplog.at_level(logging.WARNING, logger="webhooks"):
        response = file_post(client, action, body, sender=source)

    _refused(response, 413, "file_too_large")
    assert "FILE_SYNC_MAX_SIZE" in caplog.text
    assert not _upload(source, big).exists()


@pytest.mark.parametrize("name", ["tool.exe", "README", "archive.tar.gz"])
def test_a_file_with_an_extension_not_allowed_is_415_and_the_reason_logged(
    client, source, doc, name, caplog
):
    with caplog.at_level(logging.WARNING, logger="webhooks"):
        response = file_post(
            client, "chunk", _chunk(CONTENT, 0, name=name), sender=source
        )

    _refused(response, 415, "extension_not_allowed")
    assert "FILE_SYNC_ALLOWED_EXTENSIONS" in caplog.text
    assert not _upload(source).exists()


def test_a_chunk_larger_than_the_chunk_size_is_413(client, source, doc):
    response = file_post(client, "chunk", _chunk(CONTENT, 0, size=5), sender=source)
    _refused(response, 413, "chunk_too_large")


def test_a_body_over_the_limit_is_413(client, source, doc):
    body = file_body() | {"key": "k" * 20_000}
    _refused(file_post(client, "check", body, sender=source), 413, "too_large")


# --- who may send what --------------------------------------------------------


def test_a_bad_signature_is_401_and_writes_nothing(client, source, doc):
    impostor = PlatformFactory.build(
        domain=source.domain, signing_secret=signing_secret_generate()
    )
    response = file_post(client, "chunk", _chunk(CONTENT, 0), sender=impostor)

    _refused(response, 401, "invalid_signature")
    assert not _upload(source).exists()


def test_an_unknown_platform_is_401(client, doc):
    stranger = PlatformFactory.build(domain="stranger.test")
    response = file_post(client, "check", file_body(), sender=stranger)
    _refused(response, 401, "unknown_platform")


def test_a_model_no_active_sync_allows_is_403(client, source, doc, doc_sync):
    doc_sync.status = False
    doc_sync.save()
    _refused(
        file_post(client, "check", file_body(), sender=source), 403, "model_not_allowed"
    )
    other = file_body() | {"model": "auth.User", "source_model": "auth.User"}
    _refused(file_post(client, "check", other, sender=source), 403, "model_not_allowed")


def test_a_field_the_sync_does_not_send_is_403(client, source, doc, doc_sync):
    doc_sync.sync_all_fields = False
    doc_sync.field_mappings = {"title": "title"}
    doc_sync.save()

    response = file_post(client, "check", file_body(), sender=source)

    _refused(response, 403, "field_not_allowed")


def test_field_mappings_take_the_file_to_the_mapped_field(
    client, source, doc, doc_sync
):
    doc_sync.field_mappings = {"attachment": "cover"}
    doc_sync.save()

    _send(client, source, CONTENT)
    response = file_post(client, "finalize", file_body(), sender=source)

    assert response.json()["name"] == "covers/report.txt"
    doc.refresh_from_db()
    assert (doc.attachment.name, doc.cover.name) == ("", "covers/report.txt")


def test_a_field_that_cannot_hold_a_file_is_refused(client, source, doc):
    not_text = file_body() | {"field": "updated_at"}
    text = file_body() | {"field": "title"}

    _refused(
        file_post(client, "check", not_text, sender=source), 400, "not_a_file_field"
    )
    _refused(file_post(client, "check", text, sender=source), 403, "field_not_allowed")


class TitleHoldsAPath:
    """A resolver saying a Document's title holds a storage path."""

    def file_fields(self, record) -> list[str]:
        return ["title"]


def test_a_text_field_takes_files_when_a_resolver_here_names_it(
    client, source, doc, settings
):
    settings.FILE_SYNC_RESOLVERS = {"demoapp.Document": f"{__name__}.TitleHoldsAPath"}
    body = file_body(name="paths/notes.txt", field="title")
    for offset in range(0, len(CONTENT), 4):
        chunk = _chunk(CONTENT, offset, name="paths/notes.txt", field="title")
        assert file_post(client, "chunk", chunk, sender=source).status_code == 200

    response = file_post(client, "finalize", body, sender=source)

    assert response.json() == {"status": "stored", "name": "paths/notes.txt"}
    doc.refresh_from_db()
    assert doc.title == "paths/notes.txt"


@pytest.mark.parametrize("name", ["../etc/passwd.txt", "/abs/x.txt", "a/../../b.txt"])
def test_a_name_that_leaves_the_storage_is_400(client, source, doc, name):
    response = file_post(client, "check", file_body(name=name), sender=source)
    _refused(response, 400, "invalid")


def test_file_sync_off_is_404(client, source, doc, settings):
    settings.FILE_SYNC_ENABLED = False
    response = file_post(client, "check", file_body(), sender=source)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


@pytest.mark.parametrize("action", ["check", "chunk", "finalize"])
def test_webhook_off_closes_the_file_endpoints_with_404(
    client, source, doc, settings, action
):
    settings.SYNC_WEBHOOK_ENABLED = False
    payload = _chunk(CONTENT, 0) if action == "chunk" else file_body()

    response = file_post(client, action, payload, sender=source)

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert client.get(files_url_path(action)).status_code == 404
    assert not upload_path(source_id=source.pk, sha256=sha256(CONTENT)).exists()


def test_a_chunked_request_is_411(client, source, doc):
    response = file_post(
        client,
        "chunk",
        _chunk(CONTENT, 0),
        sender=source,
        headers={"Transfer-Encoding": "chunked"},
    )

    _refused(response, 411, "length_required")


@pytest.mark.parametrize("key", [2**63, -(2**63) - 1, [1, 2**64]], ids=str)
def test_a_key_past_64_bits_is_400_not_500(client, source, doc, key):
    response = file_post(client, "check", file_body(key=key), sender=source)

    body = _refused(response, 400, "invalid")
    assert body["detail"].startswith("key:")


def test_a_storage_failure_is_503_not_500(client, source, doc, settings, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    settings.MEDIA_ROOT = str(blocker)
    _send(client, source, CONTENT)

    response = file_post(client, "finalize", file_body(), sender=source)

    _refused(response, 503, "storage_error")
    doc.refresh_from_db()
    assert doc.attachment.name == ""


def test_get_is_405_json(client, doc):
    response = client.get("/sync-webhook/files/check/")
    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"
