"""Who sent a webhook: a known platform by its own secret, or the master at first
contact by the cluster's bootstrap secret (derived from SYNC_TOKEN).

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


def _verify(secret: str, headers: Mapping[str, str], body: bytes) -> None:
    signature_verify(
        secrets=[secret],
        msg_id=headers.get("webhook-id", ""),
        timestamp=headers.get("webhook-timestamp", ""),
        signature_header=headers.get("webhook-signature", ""),
        body=body,
        tolerance=sync_settings.SYNC_WEBHOOK_TOLERANCE_SECONDS,
    )


def sender_verify(*, headers: Mapping[str, str], body: bytes) -> Sender:
    """Return who signed this request, or raise SenderRefused."""
    domain = _domain_claimed(headers.get(PLATFORM_HEADER, ""))
    platform = Platform.objects.filter(domain=domain).first() if domain else None
    refusal = SenderRefused("unknown_platform", f"Unknown {PLATFORM_HEADER}.")
    if platform is not None and platform.signing_secret:
        try:
            _verify(platform.signing_secret, headers, body)
        except SignatureError as exc:
            refusal = SenderRefused(exc.code, exc.detail)
        else:
            return Sender(domain, platform)
    if domain and bootstrap_open():
        try:
            _verify(secret_from_token(sync_settings.SYNC_TOKEN), headers, body)
        except SignatureError:
            raise refusal from None
        return Sender(domain, platform, bootstrap=True)
    raise refusal
