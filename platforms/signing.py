"""Standard Webhooks signatures: sign a request, verify one. No side effects.

Two schemes of the specification: ``v1a``, Ed25519 with a platform's own key
pair (``whsk_`` private, ``whpk_`` public: whoever can verify cannot sign),
and ``v1``, HMAC-SHA256 with a shared ``whsec_`` secret (the bootstrap
secret, and platforms of the shared-secret scheme, see docs/joining.md).
Both sign ``{msg_id}.{timestamp}.{body}``.
"""

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Sequence

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from platforms.credentials import SECRET_PREFIX

PRIVATE_KEY_PREFIX = "whsk_"
PUBLIC_KEY_PREFIX = "whpk_"


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


def key_pair_generate() -> tuple[str, str]:
    """Return a new Ed25519 key pair as (``whsk_`` private, ``whpk_`` public)."""
    private = Ed25519PrivateKey.generate()
    raw_private = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    raw_public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return (
        PRIVATE_KEY_PREFIX + base64.b64encode(raw_private).decode(),
        PUBLIC_KEY_PREFIX + base64.b64encode(raw_public).decode(),
    )


def _key_bytes(key: str, prefix: str) -> bytes:
    if not key.startswith(prefix):
        raise ValueError(f"A key of this kind starts with {prefix}.")
    try:
        raw = base64.b64decode(key.removeprefix(prefix), validate=True)
    except binascii.Error:
        raise ValueError("The key is not base64.") from None
    if len(raw) != 32:
        raise ValueError("An Ed25519 key is 32 bytes.")
    return raw


def public_key_valid(key: str) -> bool:
    """Tell whether ``key`` is a ``whpk_`` Ed25519 public key."""
    try:
        Ed25519PublicKey.from_public_bytes(_key_bytes(key, PUBLIC_KEY_PREFIX))
    except ValueError:
        return False
    return True


def private_key_valid(key: str) -> bool:
    """Tell whether ``key`` is a ``whsk_`` Ed25519 private key."""
    try:
        _key_bytes(key, PRIVATE_KEY_PREFIX)
    except ValueError:
        return False
    return True


def public_key_of(private_key: str) -> str:
    """Return the ``whpk_`` public key of a ``whsk_`` private key."""
    raw = _key_bytes(private_key, PRIVATE_KEY_PREFIX)
    public = Ed25519PrivateKey.from_private_bytes(raw).public_key()
    raw_public = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return PUBLIC_KEY_PREFIX + base64.b64encode(raw_public).decode()


def key_sign(*, private_key: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """Return the ``v1a,<base64>`` Ed25519 signature of a message."""
    raw = _key_bytes(private_key, PRIVATE_KEY_PREFIX)
    signed = f"{msg_id}.{timestamp}.".encode() + body
    signature = Ed25519PrivateKey.from_private_bytes(raw).sign(signed)
    return "v1a," + base64.b64encode(signature).decode()


def _key_verifies(public_key: str, signed: bytes, signatures: list[bytes]) -> bool:
    public = Ed25519PublicKey.from_public_bytes(
        _key_bytes(public_key, PUBLIC_KEY_PREFIX)
    )
    for signature in signatures:
        try:
            public.verify(signature, signed)
        except InvalidSignature:
            continue
        return True
    return False


def delivery_headers(
    *,
    msg_id: str,
    body: bytes,
    private_keys: Sequence[str] = (),
    secrets: Sequence[str] = (),
) -> dict[str, str]:
    """Return the Standard Webhooks headers for a message sent now.

    Each private key adds a ``v1a`` signature and each secret a ``v1`` one;
    the receiver accepts the message when any one it trusts verifies.
    """
    timestamp = int(time.time())
    signatures = [
        key_sign(private_key=each, msg_id=msg_id, timestamp=timestamp, body=body)
        for each in private_keys
    ] + [
        delivery_sign(secret=each, msg_id=msg_id, timestamp=timestamp, body=body)
        for each in secrets
    ]
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signatures),
    }


def _signatures(header: str, version: str) -> list[str]:
    prefix = version + ","
    return [
        part.removeprefix(prefix)
        for part in header.split()
        if part.startswith(prefix) and part.isascii()
    ]


def _decoded(signatures: list[str]) -> list[bytes]:
    found = []
    for signature in signatures:
        try:
            found.append(base64.b64decode(signature, validate=True))
        except binascii.Error:
            continue
    return found


def signature_verify(
    *,
    msg_id: str,
    timestamp: str,
    signature_header: str,
    body: bytes,
    tolerance: int,
    public_keys: Sequence[str] = (),
    secrets: Sequence[str] = (),
    now: float | None = None,
) -> str:
    """Raise SignatureError unless one of the keys or secrets signed this fresh
    message; return the public key or secret that did."""
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
    if public_keys:
        signed = f"{msg_id}.{sent_at}.".encode() + body
        given_keyed = _decoded(_signatures(signature_header, "v1a"))
        for public_key in public_keys:
            if _key_verifies(public_key, signed, given_keyed):
                return public_key
    given = [sig.encode() for sig in _signatures(signature_header, "v1")]
    for secret in secrets:
        expected = (
            delivery_sign(secret=secret, msg_id=msg_id, timestamp=sent_at, body=body)
            .split(",", 1)[1]
            .encode()
        )
        if any(hmac.compare_digest(expected, sig) for sig in given):
            return secret
    raise SignatureError("invalid_signature", "No valid signature for this body.")
