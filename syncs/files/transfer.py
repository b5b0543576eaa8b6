"""Send a record's files to a target platform: check, missing chunks, finalize.

Each step is a JSON POST under the target's SYNC_WEBHOOK_URL, signed like the
webhook (Standard Webhooks over the exact body, so the signature covers the
chunk's bytes, which travel base64-encoded): ``/files/check/`` asks what the
target holds, ``/files/chunk/`` appends bytes at an offset, ``/files/finalize/``
has the target verify the sha256, store the file and point the record at it.
A transfer cut short resumes from the bytes the target already holds.
"""

import base64
import json
import logging
from dataclasses import dataclass

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.files.storage import Storage
from django.db import models
from requests import RequestException

from platforms.conf import sync_settings
from platforms.models import Platform, PlatformRelation
from platforms.selectors import platform_current
from platforms.transport import answer_json, signed_post
from syncs.files.fields import field_storage
from syncs.files.metadata import FileDescription, record_files_describe
from syncs.identity import model_identifier_require, record_key
from syncs.models import Sync

logger = logging.getLogger(__name__)
# Answers that mean "not now" rather than "never": the task tries again later.
RETRY_CODES = frozenset({"record_missing", "incomplete", "not_installed"})
# How often one file may restart from the target's offset before giving up.
MAX_RESTARTS = 3


class TransferRetry(Exception):
    """Try the transfer again later: the target is down or busy, or not ready."""


class TransferRefused(Exception):
    """The target refused a request for good; ``code`` and ``detail`` say why."""

    def __init__(self, code: str, detail: str, answer: dict | None = None) -> None:
        super().__init__(f"{code}: {detail}")
        self.code, self.detail, self.answer = code, detail, answer or {}


@dataclass(frozen=True)
class FileRoute:
    """Where a record's files go: the target, the sync's models, the record's key."""

    source: Platform
    target: Platform
    model: str
    source_model: str
    key: object

    def body(self, described: FileDescription) -> dict:
        """Return the fields every request about this file carries."""
        return {
            "model": self.model,
            "source_model": self.source_model,
            "key": self.key,
            "field": described.field,
            "name": described.name,
            "size": described.size,
            "sha256": described.sha256,
        }


def files_url_path(action: str) -> str:
    """Return the path of a file-sync endpoint ("check", "chunk", "finalize")."""
    return f"{sync_settings.SYNC_WEBHOOK_URL}/files/{action}/"


def file_request(*, route: FileRoute, action: str, payload: dict) -> dict:
    """POST a signed file request; return the answer, or raise Retry or Refused."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    url = route.target.base_url + files_url_path(action)
    try:
        response = signed_post(source=route.source, url=url, body=body)
    except RequestException as exc:
        raise TransferRetry(f"{url}: {exc}") from None
    answer = answer_json(response)
    if response.status_code == 200:
        return answer
    error = answer.get("error") or f"http_{response.status_code}"
    detail = answer.get("detail") or response.text[:500]
    if response.status_code == 429 or response.status_code >= 500:
        raise TransferRetry(f"{url} answered {response.status_code}: {detail}")
    if error in RETRY_CODES:
        raise TransferRetry(f"{url}: {error}: {detail}")
    raise TransferRefused(error, detail, answer)


def _received(answer: dict) -> int:
    received = answer.get("received")
    if not isinstance(received, int) or isinstance(received, bool) or received < 0:
        raise TransferRefused("bad_answer", f"The target answered {answer!r}.")
    return received


def _chunks_send(*, route: FileRoute, base: dict, storage: Storage, offset: int):
    """Send the file's bytes from ``offset`` on, where the target says it is."""
    restarts = 0
    with storage.open(base["name"], "rb") as handle:
        while offset < base["size"]:
            handle.seek(offset)
            data = handle.read(sync_settings.FILE_SYNC_CHUNK_SIZE)
            if not data:
                raise TransferRefused("changed", "The file shrank while being sent.")
            chunk = {"offset": offset, "data": base64.b64encode(data).decode()}
            try:
                answer = file_request(route=route, action="chunk", payload=base | chunk)
            except TransferRefused as exc:
                # Another transfer of the same bytes, or a lost answer: go on
                # from where the target is.
                if exc.code != "offset_mismatch" or restarts >= MAX_RESTARTS:
                    raise
                restarts += 1
                answer = exc.answer
            offset = _received(answer)


def file_send(*, route: FileRoute, described: FileDescription, storage: Storage) -> str:
    """Bring one file to the target unless it holds it; return "present" or "sent"."""
    base = route.body(described)
    answer = file_request(route=route, action="check", payload=base)
    if answer.get("status") == "present":
        return "present"
    _chunks_send(route=route, base=base, storage=storage, offset=_received(answer))
    file_request(route=route, action="finalize", payload=base)
    return "sent"


def _record_belongs_to(sync: Sync, record: models.Model) -> bool:
    """Tell whether platform relations let ``record`` go to the sync's target."""
    if not sync.use_platform_relations:
        return True
    return PlatformRelation.objects.filter(
        content_type=ContentType.objects.get_for_model(record),
        object_id=str(record.pk),
        platform_id=sync.target_platform_id,
    ).exists()


def _route_for(sync: Sync, record: models.Model, source: Platform) -> FileRoute:
    identifier = model_identifier_require(sync.source_model)
    return FileRoute(
        source=source,
        target=sync.target_platform,
        model=sync.target_model,
        source_model=sync.source_model,
        key=record_key(record, identifier),
    )


def _file_outcome(route: FileRoute, described: FileDescription, model) -> str:
    """Send one described file; log and return what became of it."""
    where = f"{described.name!r} ({route.source_model}.{described.field})"
    if described.refusal:
        logger.warning(
            "File %s not sent to %s: %s", where, route.target, described.refusal.detail
        )
        return f"refused:{described.refusal.code}"
    storage = field_storage(model._meta.get_field(described.field))
    try:
        outcome = file_send(route=route, described=described, storage=storage)
    except TransferRefused as exc:
        logger.warning("File %s refused by %s: %s", where, route.target, exc)
        return f"refused:{exc.code}"
    logger.info("File %s %s on %s.", where, outcome, route.target)
    return outcome


def record_files_transfer(*, sync_id: int, object_pk: str) -> dict[str, str]:
    """Send one record's files to its sync's target; return the outcome per field.

    Raise TransferRetry when a file should be tried again later; the files
    done meanwhile are then found present.
    """
    sync = Sync.objects.select_related("target_platform").filter(pk=sync_id).first()
    source = platform_current()
    if (
        not sync_settings.FILE_SYNC_ENABLED
        or sync is None
        or not sync.status
        or not source
    ):
        return {}
    model = apps.get_model(sync.source_model)
    record = model._default_manager.filter(pk=object_pk).first()
    if record is None or not _record_belongs_to(sync, record):
        return {}  # gone or unrelated: the target deletes it, nothing to send
    route = _route_for(sync, record, source)
    outcomes, retries = {}, []
    for described in record_files_describe(record):
        try:
            outcomes[described.field] = _file_outcome(route, described, model)
        except TransferRetry as exc:
            outcomes[described.field] = "retry"
            retries.append(str(exc))
    if retries:
        raise TransferRetry("; ".join(retries))
    return outcomes
