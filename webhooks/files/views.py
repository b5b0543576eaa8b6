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

from platforms.conf import sync_settings
from webhooks.files.allowlist import FileDestination, file_destination_resolve
from webhooks.files.serializers import FileChunkSerializer, FileRequestSerializer
from webhooks.files.services import file_check, file_chunk_store, file_finalize
from webhooks.signed import SignedRequestRefused, SignedView

logger = logging.getLogger(__name__)
# Room for the fields around a chunk's bytes (model, key, name, hash...).
FIELDS_BODY_BYTES = 16 * 1024
# Refusals that are part of a normal transfer, not worth a warning.
ROUTINE = frozenset({"offset_mismatch", "record_missing", "incomplete"})


@extend_schema(exclude=True)  # signed machine endpoints, described in the README
class FileSyncView(SignedView):
    """Verify a signed file request, hold it to the allow-list, serve it."""

    serializer_class = FileRequestSerializer

    def initial(self, request, *args, **kwargs):
        if not sync_settings.FILE_SYNC_ENABLED:
            raise Http404
        super().initial(request, *args, **kwargs)

    def get_body_limit(self) -> int:
        return FIELDS_BODY_BYTES

    def perform_serve(self, *, destination: FileDestination, data: dict) -> dict:
        raise NotImplementedError

    def handle_exception(self, exc):
        if isinstance(exc, SignedRequestRefused):
            level = logging.INFO if exc.code in ROUTINE else logging.WARNING
            logger.log(level, "File request refused: %s: %s", exc.code, exc.detail)
        return super().handle_exception(exc)

    def post(self, request):
        source = self.get_source()
        data = self.get_validated(self.serializer_class, self.get_payload())
        destination = file_destination_resolve(
            source=source, target=self.get_target(), data=data
        )
        try:
            return Response(self.perform_serve(destination=destination, data=data))
        except SuspiciousFileOperation as exc:
            raise SignedRequestRefused("invalid_name", str(exc), 400) from None
        except OSError as exc:
            logger.exception("File storage failed for %r.", data["name"])
            raise SignedRequestRefused(
                "storage_error", f"Storing the file failed: {exc}", 503
            ) from None


class FileCheckView(FileSyncView):
    """Say whether the record holds the file, else how many bytes arrived."""

    def perform_serve(self, *, destination: FileDestination, data: dict) -> dict:
        return file_check(destination=destination, data=data)


class FileChunkView(FileSyncView):
    """Append a run of the file's bytes at the offset the upload has reached."""

    serializer_class = FileChunkSerializer

    def get_body_limit(self) -> int:
        encoded = 4 * math.ceil(sync_settings.FILE_SYNC_CHUNK_SIZE / 3)
        return encoded + FIELDS_BODY_BYTES

    def perform_serve(self, *, destination: FileDestination, data: dict) -> dict:
        return file_chunk_store(destination=destination, data=data)


class FileFinalizeView(FileSyncView):
    """Verify the complete upload's sha256, store it, point the record at it."""

    def perform_serve(self, *, destination: FileDestination, data: dict) -> dict:
        return file_finalize(destination=destination, data=data)
