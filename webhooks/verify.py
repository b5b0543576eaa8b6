"""Read a signed request: its exact body, within limits, from a verified sender.

Every signed endpoint of the receiving side (the webhook, the digest endpoint)
starts here, so they refuse the same requests with the same answers.
"""

from django.http import HttpRequest

from platforms.conf import sync_settings
from webhooks.senders import Sender, SenderRefused, sender_verify


class RequestRefused(Exception):
    """A signed request is too large, or its sender or signature is refused."""

    def __init__(self, code: str, detail: str, status: int) -> None:
        super().__init__(detail)
        self.code, self.detail, self.status = code, detail, status


def _body_read(request: HttpRequest) -> bytes:
    limit = sync_settings.SYNC_WEBHOOK_MAX_BODY_BYTES
    declared = request.META.get("CONTENT_LENGTH") or "0"
    too_large = RequestRefused("too_large", f"The body exceeds {limit} bytes.", 413)
    # isdigit() alone also passes "²", which int() refuses.
    if not (declared.isascii() and declared.isdigit()) or int(declared) > limit:
        raise too_large
    body = request.read(limit + 1)
    if len(body) > limit:
        raise too_large
    return body


def signed_request_read(request) -> tuple[Sender, bytes]:
    """Return the verified sender and the exact body of a signed request.

    Takes Django's request or DRF's (whose parsers must not have read the body).
    Raises RequestRefused: 413 for a body over SYNC_WEBHOOK_MAX_BODY_BYTES, 401
    for an unknown sender or a missing, wrong or stale signature.
    """
    raw = getattr(request, "_request", request)
    body = _body_read(raw)
    try:
        sender = sender_verify(headers=raw.headers, body=body)
    except SenderRefused as exc:
        raise RequestRefused(exc.code, exc.detail, 401) from None
    return sender, body
