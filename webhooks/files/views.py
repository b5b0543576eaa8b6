"""The file endpoints: check, chunk and finalize, signed like the webhook.

Bodies are JSON (chunks carry their bytes base64-encoded), so the Standard
Webhooks signature over the exact body covers every byte and every field.
Answers are ``200`` with JSON, or ``4xx`` ``{"error", "detail"}`` (``503``
when this platform is not installed or its storage fails); never ``500``.
"""

import logging
import math

from django.core.exceptions import SuspiciousFileOperation
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from platforms.conf import sync_settings
from platforms.models import Platform
from platforms.selectors import platform_current
from webhooks.envelope import envelope_parse
from webhooks.files.refusals import FileRequestRefused
from webhooks.files.serializers import FileChunkSerializer, FileRequestSerializer
from webhooks.files.services import file_check, file_chunk_store, file_finalize
from webhooks.files.spots import FileSpot, file_spot_resolve
from webhooks.verify import RequestRefused, SignedEndpointMixin, signed_request_read

logger = logging.getLogger(__name__)
# Room for the fields around a chunk's bytes (model, key, name, hash...).
FIELDS_BODY_BYTES = 16 * 1024
# Refusals that are part of a normal transfer, not worth a warning.
ROUTINE = frozenset({"offset_mismatch", "record_missing", "incomplete"})


def _signed_read(request, limit: int) -> tuple[Platform, bytes]:
    """Return the known platform that signed the request and its body, or refuse."""
    try:
        sender, body = signed_request_read(request, limit=limit)
    except RequestRefused as exc:
        raise FileRequestRefused(exc.code, exc.detail, exc.status) from None
    if sender.bootstrap or sender.platform is None:
        raise FileRequestRefused(
            "bootstrap_platforms_only",
            "The cluster's bootstrap secret does not sign file requests.",
            403,
        )
    return sender.platform, body


def _first_error(errors) -> str:
    """Name the first field in error and its first message."""
    name, messages = next(iter(errors.items()))
    message = messages[0] if isinstance(messages, list) else messages
    return f"{name}: {message}"


def _validated(serializer_class, body: bytes) -> dict:
    try:
        payload = envelope_parse(body)
    except ValueError as exc:
        detail = f"The body is not JSON: {exc}"
        raise FileRequestRefused("invalid_json", detail, 400) from None
    serializer = serializer_class(data=payload)
    if not serializer.is_valid():
        raise FileRequestRefused("invalid", _first_error(serializer.errors), 400)
    return serializer.validated_data


@extend_schema(exclude=True)  # signed machine endpoints, described in the README
class FileSyncView(SignedEndpointMixin, APIView):
    """Verify a signed file request, hold it to the allow-list, serve it."""

    serializer_class = FileRequestSerializer

    def get_body_limit(self) -> int:
        return FIELDS_BODY_BYTES

    def perform_serve(self, *, spot: FileSpot, data: dict) -> dict:
        raise NotImplementedError

    def post(self, request):
        if not sync_settings.FILE_SYNC_ENABLED:
            raise Http404
        try:
            answer = self.serve(request)
        except FileRequestRefused as exc:
            level = logging.INFO if exc.code in ROUTINE else logging.WARNING
            logger.log(level, "File request refused: %s: %s", exc.code, exc.detail)
            return Response(exc.as_answer(), status=exc.status)
        return Response(answer)

    def serve(self, request) -> dict:
        """Return the answer to a request, or raise FileRequestRefused."""
        source, body = _signed_read(request, self.get_body_limit())
        data = _validated(self.serializer_class, body)
        target = platform_current()
        if target is None:
            raise FileRequestRefused(
                "not_installed", "This platform has no Platform row.", 503
            )
        spot = file_spot_resolve(source=source, target=target, data=data)
        try:
            return self.perform_serve(spot=spot, data=data)
        except SuspiciousFileOperation as exc:
            raise FileRequestRefused("invalid_name", str(exc), 400) from None
        except OSError as exc:
            logger.exception("File storage failed for %r.", data["name"])
            raise FileRequestRefused(
                "storage_error", f"Storing the file failed: {exc}", 503
            ) from None


class FileCheckView(FileSyncView):
    """Say whether the record holds the file, else how many bytes arrived."""

    def perform_serve(self, *, spot: FileSpot, data: dict) -> dict:
        return file_check(spot=spot, data=data)


class FileChunkView(FileSyncView):
    """Append a run of the file's bytes at the offset the upload has reached."""

    serializer_class = FileChunkSerializer

    def get_body_limit(self) -> int:
        encoded = 4 * math.ceil(sync_settings.FILE_SYNC_CHUNK_SIZE / 3)
        return encoded + FIELDS_BODY_BYTES

    def perform_serve(self, *, spot: FileSpot, data: dict) -> dict:
        return file_chunk_store(spot=spot, data=data)


class FileFinalizeView(FileSyncView):
    """Verify the complete upload's sha256, store it, point the record at it."""

    def perform_serve(self, *, spot: FileSpot, data: dict) -> dict:
        return file_finalize(spot=spot, data=data)
