"""The source side of file sync: what is sent, resuming, retries, refusals."""

import base64
import json
import logging

import pytest

from platforms.services import platform_relations_add
from platforms.signing import signature_verify
from platforms.transport import PLATFORM_HEADER
from syncs.delivery import outbox_drain
from syncs.files.transfer import TransferRetry, record_files_transfer
from syncs.outbox import outbox_queue_name
from syncs.tasks import file_transfer
from tests.factories import PlatformFactory, SyncFactory, UserFactory
from tests.filesync import CONTENT, document, file_sync, sha256  # noqa: F401
from tests.syncs.webhook_peer import Answer, WebhookPeer, closed_domain

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("file_sync")]


def ok(**answer) -> Answer:
    return Answer(status=200, body=json.dumps(answer).encode())


def refused(status: int, error: str, **extra) -> Answer:
    body = {"error": error, "detail": f"{error} (test)"} | extra
    return Answer(status=status, body=json.dumps(body).encode())


@pytest.fixture
def peer():
    with WebhookPeer() as peer:
        yield peer


@pytest.fixture
def doc_sync(current_platform, peer):
    return SyncFactory(
        source_platform=current_platform,
        target_platform=PlatformFactory(name="B", domain=peer.domain),
        source_model="demoapp.Document",
        target_model="demoapp.Document",
    )


def _transfer(doc_sync, doc) -> dict[str, str]:
    return record_files_transfer(sync_id=doc_sync.pk, object_pk=str(doc.pk))


def _chunk_answers(start: int, size: int = len(CONTENT)) -> list[Answer]:
    return [ok(received=min(end, size)) for end in range(start + 4, size + 4, 4)]


def _sent_bytes(requests) -> bytes:
    chunks = [r.json() for r in requests if r.path.endswith("/chunk/")]
    return b"".join(base64.b64decode(chunk["data"]) for chunk in chunks)


def test_a_file_the_target_holds_is_not_sent(doc_sync, peer):
    doc = document("doc", attachment=("report.txt", CONTENT))
    peer.answer(ok(status="present", received=len(CONTENT)))

    assert _transfer(doc_sync, doc) == {"attachment": "present"}

    (check,) = peer.requests
    assert check.path == "/sync-webhook/files/check/"


def test_a_missing_file_goes_in_signed_chunks_then_is_finalized(
    doc_sync, peer, current_platform
):
    doc = document("doc", attachment=("report.txt", CONTENT))
    peer.answer(
        ok(status="missing", received=0), *_chunk_answers(0), ok(status="stored")
    )

    assert _transfer(doc_sync, doc) == {"attachment": "sent"}

    paths = [request.path.rsplit("/", 2)[1] for request in peer.requests]
    assert paths == ["check"] + ["chunk"] * 10 + ["finalize"]
    assert _sent_bytes(peer.requests) == CONTENT
    first_chunk = peer.requests[1].json()
    assert first_chunk == {
        "model": "demoapp.Document",
        "source_model": "demoapp.Document",
        "key": "doc",
        "field": "attachment",
        "name": "documents/report.txt",
        "size": len(CONTENT),
        "sha256": sha256(CONTENT),
        "offset": 0,
        "data": base64.b64encode(CONTENT[:4]).decode(),
    }
    for request in peer.requests:
        assert request.headers[PLATFORM_HEADER.lower()] == "a.test"
        signature_verify(
            secrets=[current_platform.signing_secret],
            msg_id=request.headers["webhook-id"],
            timestamp=request.headers["webhook-timestamp"],
            signature_header=request.headers["webhook-signature"],
            body=request.body,
            tolerance=300,
        )


def test_a_partial_upload_resumes_from_the_bytes_the_target_holds(doc_sync, peer):
    doc = document("doc", attachment=("report.txt", CONTENT))
    peer.answer(
        ok(status="partial", received=12), *_chunk_answers(12), ok(status="stored")
    )

    _transfer(doc_sync, doc)

    offsets = [r.json()["offset"] for r in peer.requests if r.path.endswith("chunk/")]
    assert offsets == list(range(12, len(CONTENT), 4))
    assert _sent_bytes(peer.requests) == CONTENT[12:]


def test_an_offset_mismatch_goes_on_from_where_the_target_is(doc_sync, peer):
    doc = document("doc", attachment=("report.txt", CONTENT))
    peer.answer(
        ok(status="missing", received=0),
        refused(409, "offset_mismatch", received=32),
        *_chunk_answers(32),
        ok(status="stored"),
    )

    assert _transfer(doc_sync, doc) == {"attachment": "sent"}

    offsets = [r.json()["offset"] for r in peer.requests if r.path.endswith("chunk/")]
    assert offsets == [0, 32, 36]


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("tool.exe", CONTENT, "extension_not_allowed"),
        ("huge.txt", b"x" * 65, "file_too_large"),
    ],
)
def test_a_refused_file_is_not_sent_and_the_reason_is_logged(
    doc_sync, peer, name, content, code, caplog
):
    doc = document("doc", attachment=(name, content))

    with caplog.at_level(logging.WARNING, logger="syncs"):
        outcome = _transfer(doc_sync, doc)

    assert outcome == {"attachment": f"refused:{code}"}
    assert peer.requests == []
    assert name in caplog.text and "not sent" in caplog.text


def test_a_refusal_by_the_target_is_logged_and_the_other_files_still_go(
    doc_sync, peer, caplog
):
    doc = document("doc", attachment=("a.txt", b"a"), cover=("c.txt", b"c"))
    peer.answer(
        refused(403, "field_not_allowed"),
        ok(status="missing", received=0),
        ok(received=1),
        ok(status="stored"),
    )

    with caplog.at_level(logging.WARNING, logger="syncs"):
        outcome = _transfer(doc_sync, doc)

    assert outcome == {"attachment": "refused:field_not_allowed", "cover": "sent"}
    assert "field_not_allowed" in caplog.text


def test_a_hash_mismatch_is_not_retried(doc_sync, peer):
    doc = document("doc", attachment=("a.txt", b"a"))
    peer.answer(ok(status="missing", received=0), ok(received=1))
    peer.answer(refused(422, "hash_mismatch"))

    assert _transfer(doc_sync, doc) == {"attachment": "refused:hash_mismatch"}


@pytest.mark.parametrize(
    "answer",
    [
        refused(409, "record_missing"),
        refused(409, "incomplete", received=0),
        refused(503, "storage_error"),
        refused(429, "busy"),
    ],
)
def test_not_now_answers_ask_for_a_retry(doc_sync, peer, answer):
    doc = document("doc", attachment=("a.txt", b"a"))
    peer.answer(ok(status="missing", received=0), ok(received=1), answer)

    with pytest.raises(TransferRetry):
        _transfer(doc_sync, doc)


def test_an_unreachable_target_asks_for_a_retry(doc_sync):
    doc_sync.target_platform.domain = closed_domain()
    doc_sync.target_platform.save()
    doc = document("doc", attachment=("a.txt", b"a"))

    with pytest.raises(TransferRetry):
        _transfer(doc_sync, doc)


def test_nothing_is_sent_for_a_deleted_or_unrelated_record(doc_sync, peer):
    doc = document("doc", attachment=("a.txt", b"a"))
    gone = document("gone", attachment=("g.txt", b"g"))
    gone_pk = gone.pk
    gone.delete()
    doc_sync.use_platform_relations = True
    doc_sync.save()

    assert _transfer(doc_sync, doc) == {}
    assert record_files_transfer(sync_id=doc_sync.pk, object_pk=str(gone_pk)) == {}
    assert peer.requests == []


def test_a_related_record_sends_its_files(doc_sync, peer):
    doc = document("doc", attachment=("a.txt", b"a"))
    doc_sync.use_platform_relations = True
    doc_sync.save()
    platform_relations_add(record=doc, platforms=[doc_sync.target_platform])
    peer.answer(ok(status="present", received=1))

    assert _transfer(doc_sync, doc) == {"attachment": "present"}


def test_nothing_is_sent_with_file_sync_off(doc_sync, peer, settings):
    settings.FILE_SYNC_ENABLED = False
    doc = document("doc", attachment=("a.txt", b"a"))

    assert _transfer(doc_sync, doc) == {}
    assert peer.requests == []


# --- after delivery -------------------------------------------------------------


@pytest.fixture
def queued(monkeypatch):
    """The file transfers asked for, instead of the broker."""
    calls = []
    monkeypatch.setattr(file_transfer, "delay", lambda *args: calls.append(args))
    return calls


def _deliver(sync) -> None:
    target = sync.target_platform
    outbox_drain(platform_id=target.pk, queue=outbox_queue_name(target.pk))


def test_a_delivered_batch_asks_for_one_transfer_per_record(
    doc_sync, peer, queued, current_platform
):
    SyncFactory(
        source_platform=current_platform, target_platform=doc_sync.target_platform
    )
    doc = document("doc", attachment=("a.txt", b"a"))
    doc.title = "Twice changed"
    doc.save()
    empty = document("empty")
    UserFactory(username="no-files")

    _deliver(doc_sync)

    assert queued == [(doc_sync.pk, str(doc.pk)), (doc_sync.pk, str(empty.pk))]


def test_a_failed_delivery_asks_for_no_transfer(doc_sync, peer, queued):
    peer.default = Answer(status=503)
    document("doc", attachment=("a.txt", b"a"))

    _deliver(doc_sync)

    assert queued == []


def test_a_delivered_delete_asks_for_no_transfer(doc_sync, peer, queued):
    document("doc", attachment=("a.txt", b"a")).delete()

    _deliver(doc_sync)

    assert queued == []


def test_with_file_sync_off_delivery_asks_for_no_transfer(
    doc_sync, peer, queued, settings
):
    settings.FILE_SYNC_ENABLED = False
    document("doc", attachment=("a.txt", b"a"))

    _deliver(doc_sync)

    assert queued == []


def test_the_task_retries_then_gives_up_while_the_target_stays_down(doc_sync, settings):
    settings.SYNC_MAX_ATTEMPTS = 2
    settings.SYNC_RETRY_BASE_SECONDS = 0.0
    doc_sync.target_platform.domain = closed_domain()
    doc_sync.target_platform.save()
    doc = document("doc", attachment=("a.txt", b"a"))

    result = file_transfer.apply(args=(doc_sync.pk, str(doc.pk)))

    assert isinstance(result.result, TransferRetry)
    assert result.state == "FAILURE"
