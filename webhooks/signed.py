"""The one base of the signed endpoints: read, verify, parse and refuse.

Every signed endpoint of the receiving side (the webhook, the digest and the
file endpoints) is a ``SignedView``: it reads the exact body within its limit,
verifies the sender (webhooks.senders), parses the body as JSON any database
can store and validates it with a serializer. Whatever it refuses, it raises
``SignedRequestRefused``, which the API's error handler answers as
``{"error", "detail"}``, so the endpoints refuse the same requests with the
same answers.
"""

import json
import math

from django.http import Http404, HttpRequest
from rest_framework.exceptions import APIException
from rest_framework.parsers import BaseParser
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from platforms.api.base import SyncErrorsMixin
from platforms.api.errors import error_lines
from platforms.conf import sync_settings
from platforms.models import Platform
from platforms.selectors import platform_current
from webhooks.senders import Sender, SenderRefused, sender_verify

# Deep enough for any record's data; shallow enough to stay far from recursion
# limits wherever the data is encoded again.
MAX_DEPTH = 32


class SignedRequestRefused(APIException):
    """Refuse a signed request: answer ``status`` with ``{"error": code,
    "detail": detail}`` and any ``extra`` fields; nothing is written."""

    def __init__(self, code: str, detail: str, status: int, **extra) -> None:
        super().__init__(detail, code)
        self.code, self.status, self.extra = code, status, extra
        self.status_code = status  # what DRF's handler answers


class RawParser(BaseParser):
    """Leave the body alone: the signature covers its exact bytes."""

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None):
        return None


def body_read(request: HttpRequest, limit: int) -> bytes:
    """Return the exact body of a request that declares its length, up to ``limit``.

    Raises SignedRequestRefused: 411 for a chunked body (Transfer-Encoding:
    Django reads none of it, and the signature over it would fail), 413 for one
    over ``limit``. A request with neither header has no body.
    """
    if "HTTP_TRANSFER_ENCODING" in request.META:
        raise SignedRequestRefused(
            "length_required",
            "Send the body with a Content-Length, not a Transfer-Encoding.",
            411,
        )
    declared = request.META.get("CONTENT_LENGTH") or "0"
    too_large = SignedRequestRefused(
        "too_large", f"The body exceeds {limit} bytes.", 413
    )
    # isdigit() alone also passes "²", which int() refuses.
    if not (declared.isascii() and declared.isdigit()) or int(declared) > limit:
        raise too_large
    body = request.read(limit + 1)
    if len(body) > limit:
        raise too_large
    return body


def signed_request_read(request, *, limit: int) -> tuple[Sender, bytes]:
    """Return the verified sender and the exact body of a signed request.

    Takes Django's request or DRF's (whose parsers must not have read the body).
    Raises SignedRequestRefused: 411 or 413 (see body_read), 401 for an unknown
    sender or a missing, wrong or stale signature.
    """
    raw = getattr(request, "_request", request)
    body = body_read(raw, limit)
    try:
        sender = sender_verify(headers=raw.headers, body=body)
    except SenderRefused as exc:
        raise SignedRequestRefused(exc.code, exc.detail, 401) from None
    return sender, body


def _not_json(constant: str):
    raise ValueError(f"{constant} is not a JSON value")


class _Unstorable:
    """A number literal that no float holds: parsed, then refused by its path."""

    def __init__(self, literal: str) -> None:
        self.literal = literal


def _number(literal: str):
    value = float(literal)
    mantissa = literal.lower().partition("e")[0]
    # 1e400 is infinity and 1e-400 is zero: neither is what was sent.
    if math.isinf(value) or (value == 0 and mantissa.strip("-+.0")):
        return _Unstorable(literal)
    return value


def body_parse(body: bytes):
    """Return the parsed body; raise ValueError for what no database could store.

    The error names where the value sits (``events[1] (id 'x').data.price``),
    so a sender can tell which event of a batch is at fault.
    """
    try:
        payload = json.loads(body, parse_constant=_not_json, parse_float=_number)
    except RecursionError:
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels") from None
    # A path is kept as (parent path, key) links: cheap to build, spelled out
    # only for the value at fault.
    stack = [(payload, 0, None)]
    while stack:
        value, depth, path = stack.pop()
        if depth > MAX_DEPTH:
            raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(value, dict):
            for key, item in value.items():
                _text_check(key, payload, (path, key))
                stack.append((item, depth + 1, (path, key)))
        elif isinstance(value, list):
            stack += [(item, depth + 1, (path, i)) for i, item in enumerate(value)]
        elif isinstance(value, str):
            _text_check(value, payload, path)
        elif isinstance(value, _Unstorable):
            raise ValueError(
                f"{_where(payload, path)}: the number {value.literal[:40]} is out "
                "of the range of a float"
            )
    return payload


def _text_check(text: str, payload, path) -> None:
    # PostgreSQL stores neither; SQLite's driver cannot encode surrogates.
    if "\x00" in text:
        raise ValueError(f"{_where(payload, path)}: text holds a NUL character")
    try:
        text.encode()
    except UnicodeEncodeError:
        raise ValueError(
            f"{_where(payload, path)}: text holds an unpaired surrogate"
        ) from None


def _where(payload, path) -> str:
    """Spell out a (parent, key) path; name an event by its index and its id."""
    keys = []
    while path is not None:
        path, key = path
        keys.append(key)
    keys.reverse()
    spelled = [_step(payload, keys, at) for at in range(len(keys))]
    return "".join(spelled).lstrip(".") or "the body"


def _step(payload, keys: list, at: int) -> str:
    key = keys[at]
    if isinstance(key, str):
        return f".{key}" if key.isidentifier() else f"[{key[:100]!r}]"
    if at == 1 and keys[0] == "events":
        event = payload["events"][key]
        event_id = event.get("id") if isinstance(event, dict) else None
        if isinstance(event_id, str) and event_id.isprintable():
            return f"[{key}] (id {event_id[:64]!r})"
    return f"[{key}]"


class SignedView(SyncErrorsMixin, APIView):
    """A signed endpoint for other platforms: 404 while SYNC_WEBHOOK_ENABLED is off.

    ``initial`` reads and verifies a POST (``self.sender``, ``self.body``);
    ``post`` takes what it needs through the ``get_*`` methods, each of which
    raises SignedRequestRefused instead of returning what it cannot.
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]
    parser_classes = [RawParser]
    # The answer to a request signed by the cluster's bootstrap secret.
    bootstrap_refusal = (
        "bootstrap_platforms_only",
        "The cluster's bootstrap secret signs only the master's first push of the "
        "platform list.",
        403,
    )

    def initial(self, request, *args, **kwargs):
        if not sync_settings.SYNC_WEBHOOK_ENABLED:
            raise Http404
        super().initial(request, *args, **kwargs)
        if request.method == "POST":  # the others answer 405, OPTIONS its metadata
            limit = self.get_body_limit()
            self.sender, self.body = signed_request_read(request, limit=limit)

    def get_body_limit(self) -> int:
        return sync_settings.SYNC_WEBHOOK_MAX_BODY_BYTES

    def get_source(self) -> Platform:
        """Return the known platform that signed with its own key or secret."""
        if self.sender.bootstrap or self.sender.platform is None:
            raise SignedRequestRefused(*self.bootstrap_refusal)
        return self.sender.platform

    def get_payload(self):
        """Return the parsed body."""
        try:
            return body_parse(self.body)
        except ValueError as exc:
            detail = f"The body is not storable JSON: {exc}"
            raise SignedRequestRefused("invalid_json", detail, 400) from None

    def get_validated(self, serializer_class, payload) -> dict:
        """Return the parsed body validated, or name its first error."""
        serializer = serializer_class(data=payload)
        if not serializer.is_valid():
            first = error_lines(serializer.errors)[0]
            raise SignedRequestRefused("invalid", first, 400)
        return serializer.validated_data

    def get_target(self) -> Platform:
        """Return this platform."""
        target = platform_current()
        if target is None:
            detail = "This platform has no Platform row."
            raise SignedRequestRefused("not_installed", detail, 503)
        return target

    def source_check(self, validated: dict) -> None:
        """Refuse a body whose ``source`` is not the platform that signed it."""
        if validated["source"].lower() != self.sender.domain:
            detail = "source differs from the sender."
            raise SignedRequestRefused("source_mismatch", detail, 400)
