"""Who sent a webhook: a known platform by its own key, or the master at first
contact by the cluster's bootstrap secret (derived from SYNC_TOKEN).

A known platform's request must carry a ``v1a`` signature by one of its active
public keys. Only a platform with no key known here (the shared-secret scheme,
while a cluster upgrades) may sign with its ``whsec_`` secret instead. A locked
platform is refused whatever it signs with.

The bootstrap secret is accepted only while this platform knows no master, and
the view lets it sign nothing but a push of the platform list that names its
sender as the master. Once that push is applied the master is known, and every
request must be signed with its sender's own secret again. Every other signed
endpoint must refuse a Sender whose ``bootstrap`` is set or whose ``platform``
is None.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from platforms.conf import sync_settings
from platforms.keys import key_used, verifying_keys
from platforms.models import Platform, domain_validator
from platforms.selectors import platform_master
from platforms.signing import SignatureError, secret_from_token, signature_verify
from platforms.transport import PLATFORM_HEADER


@dataclass(frozen=True)
class Sender:
    """The verified sender of a request."""

    domain: str
    platform: Platform | None  # None: not known here yet (first contact)
    bootstrap: bool = False  # verified by the bootstrap secret, not its own


class SenderRefused(Exception):
    """A request's sender is unknown or its signature does not verify."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code, self.detail = code, detail


def bootstrap_open() -> bool:
    """Tell whether the bootstrap secret is accepted: SYNC_TOKEN set, no master."""
    return bool(sync_settings.SYNC_TOKEN) and platform_master() is None


def _domain_claimed(claimed: str) -> str | None:
    try:
        domain_validator(claimed)  # a NUL byte would crash PostgreSQL's lookup
    except ValidationError:
        return None
    return claimed.lower()


def _verify(headers: Mapping[str, str], body: bytes, **trusted) -> str:
    return signature_verify(
        msg_id=headers.get("webhook-id", ""),
        timestamp=headers.get("webhook-timestamp", ""),
        signature_header=headers.get("webhook-signature", ""),
        body=body,
        tolerance=sync_settings.SYNC_WEBHOOK_TOLERANCE_SECONDS,
        **trusted,
    )


def _platform_verify(platform: Platform, headers: Mapping[str, str], body: bytes):
    """Raise SignatureError unless the platform's own key (or secret) signed."""
    public_keys = verifying_keys(platform)
    if public_keys:
        key_used(_verify(headers, body, public_keys=public_keys))
    elif platform.signing_secret:
        _verify(headers, body, secrets=[platform.signing_secret])
    else:
        raise SignatureError("no_key", "This platform has no key of the sender yet.")


def sender_verify(*, headers: Mapping[str, str], body: bytes) -> Sender:
    """Return who signed this request, or raise SenderRefused."""
    domain = _domain_claimed(headers.get(PLATFORM_HEADER, ""))
    platform = Platform.objects.filter(domain=domain).first() if domain else None
    refusal = SenderRefused("unknown_platform", f"Unknown {PLATFORM_HEADER}.")
    if platform is not None and platform.locked:
        raise SenderRefused("platform_locked", f"{domain} is locked here.")
    if platform is not None:
        try:
            _platform_verify(platform, headers, body)
        except SignatureError as exc:
            refusal = SenderRefused(exc.code, exc.detail)
        else:
            return Sender(domain, platform)
    if domain and bootstrap_open():
        try:
            _verify(
                headers, body, secrets=[secret_from_token(sync_settings.SYNC_TOKEN)]
            )
        except SignatureError:
            raise refusal from None
        return Sender(domain, platform, bootstrap=True)
    raise refusal
