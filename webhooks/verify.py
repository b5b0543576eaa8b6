"""Read a signed request: its exact body, within limits, from a verified sender.

Every signed endpoint of the receiving side (the webhook, the digest and the
file endpoints) is a ``SignedEndpointMixin`` view and starts here, so they
close together and refuse the same requests with the same answers.
"""

from django.http import Http404, HttpRequest
from rest_framework.parsers import BaseParser
from rest_framework.permissions import AllowAny

from platforms.api.base import SyncErrorsMixin
from platforms.conf import sync_settings
from webhooks.senders import Sender, SenderRefused, sender_verify


class RequestRefused(Exception):
    """A signed request is too large, or its sender or signature is refused."""

    def __init__(self, code: str, detail: str, status: int) -> None:
        super().__init__(detail)
        self.code, self.detail, self.status = code, detail, status


class RawParser(BaseParser):
    """Leave the body alone: the signature covers its exact bytes."""

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None):
        return None


class SignedEndpointMixin(SyncErrorsMixin):
    """A signed endpoint for other platforms: 404 while SYNC_WEBHOOK_ENABLED is off."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    parser_classes = [RawParser]

    def initial(self, request, *args, **kwargs):
        if not sync_settings.SYNC_WEBHOOK_ENABLED:
            raise Http404
        super().initial(request, *args, **kwargs)


def body_read(request: HttpRequest, limit: int) -> bytes:
    """Return the exact body of a request that declares its length, up to ``limit``.

    Raises RequestRefused: 411 for a chunked body (Transfer-Encoding: Django
    reads none of it, and the signature over it would fail), 413 for one over
    ``limit``. A request with neither header has no body.
    """
    if "HTTP_TRANSFER_ENCODING" in request.META:
        raise RequestRefused(
            "length_required",
            "Send the body with a Content-Length, not a Transfer-Encoding.",
            411,
        )
    declared = request.META.get("CONTENT_LENGTH") or "0"
    too_large = RequestRefused("too_large", f"The body exceeds {limit} bytes.", 413)
    # isdigit() alone also passes "²", which int() refuses.
    if not (declared.isascii() and declared.isdigit()) or int(declared) > limit:
        raise too_large
    body = request.read(limit + 1)
    if len(body) > limit:
        raise too_large
    return body


def signed_request_read(request, *, limit: int | None = None) -> tuple[Sender, bytes]:
    """Return the verified sender and the exact body of a signed request.

    Takes Django's request or DRF's (whose parsers must not have read the body).
    Raises RequestRefused: 411 or 413 (see body_read; ``limit`` defaults to
    SYNC_WEBHOOK_MAX_BODY_BYTES), 401 for an unknown sender or a missing, wrong
    or stale signature.
    """
    raw = getattr(request, "_request", request)
    body = body_read(raw, limit or sync_settings.SYNC_WEBHOOK_MAX_BODY_BYTES)
    try:
        sender = sender_verify(headers=raw.headers, body=body)
    except SenderRefused as exc:
        raise RequestRefused(exc.code, exc.detail, 401) from None
    return sender, body
