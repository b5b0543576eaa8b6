"""Standard Webhooks signatures: sign a request, verify one. No side effects."""

import base64
import hashlib
import hmac
import time
from collections.abc import Sequence

from platforms.credentials import SECRET_PREFIX


class SignatureError(Exception):
    """A request's signature is missing, wrong or stale."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def secret_key(secret: str) -> bytes:
    """Return the HMAC key of a ``whsec_`` secret (its base64 part, decoded)."""
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def secret_from_token(token: str) -> str:
    """Derive a ``whsec_`` secret from the cluster's shared SYNC_TOKEN."""
    digest = hmac.new(token.encode(), b"mooxsync-bootstrap", hashlib.sha256).digest()
    return SECRET_PREFIX + base64.b64encode(digest).decode()


def delivery_sign(*, secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """Return the ``v1,<base64>`` signature of a message."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    mac = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def delivery_headers(
    *, secret: str, msg_id: str, body: bytes, also_signed_with: Sequence[str] = ()
) -> dict[str, str]:
    """Return the Standard Webhooks headers for a message sent now.

    Each secret of ``also_signed_with`` adds a signature; the receiver accepts
    the message when any one of them verifies.
    """
    timestamp = int(time.time())
    signatures = [
        delivery_sign(secret=each, msg_id=msg_id, timestamp=timestamp, body=body)
        for each in (secret, *also_signed_with)
    ]
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signatures),
    }


def signature_verify(
    *,
    secrets: list[str],
    msg_id: str,
    timestamp: str,
    signature_header: str,
    body: bytes,
    tolerance: int,
    now: float | None = None,
) -> None:
    """Raise SignatureError unless one of ``secrets`` signed this fresh message."""
    if not (msg_id and timestamp and signature_header):
        raise SignatureError("missing_signature", "Missing webhook-* headers.")
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        raise SignatureError("invalid_timestamp", "Bad webhook-timestamp.")
    sent_at = int(timestamp)
    now = time.time() if now is None else now
    if abs(now - sent_at) > tolerance:
        raise SignatureError(
            "stale_timestamp", f"webhook-timestamp is more than {tolerance}s off."
        )
    given = [
        part.split(",", 1)[1].encode()
        for part in signature_header.split()
        if part.startswith("v1,") and part.isascii()
    ]
    for secret in secrets:
        expected = (
            delivery_sign(secret=secret, msg_id=msg_id, timestamp=sent_at, body=body)
            .split(",", 1)[1]
            .encode()
        )
        if any(hmac.compare_digest(expected, sig) for sig in given):
            return
    raise SignatureError("invalid_signature", "No valid signature for this body.")
