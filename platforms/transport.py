"""HTTP between platforms: the signed webhook POST and the API GET with a token."""

import email.utils
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

import requests

from platforms.conf import sync_settings
from platforms.keys import signing_keys
from platforms.models import Platform
from platforms.signing import delivery_headers

PLATFORM_HEADER = "X-Sync-Platform"
# One session per process: connections to a platform are kept alive and reused.
_session = requests.Session()


@dataclass
class SendResult:
    """What became of one POST to a target."""

    ok: bool
    retryable: bool = False
    error: str = ""
    retry_after: float | None = None
    answer: dict = field(default_factory=dict)


class ApiError(Exception):
    """A platform's API could not be reached or refused a request."""


def _timeout() -> tuple[float, float]:
    return (3.05, sync_settings.SYNC_HTTP_TIMEOUT)


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None  # a malformed header falls back to our own backoff
    return max(0.0, parsed.timestamp() - time.time())


def _answer(response: requests.Response) -> dict:
    try:
        answer = response.json()
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def signed_headers(
    *, source: Platform, body: bytes, also_signed_with: Sequence[str] = ()
) -> dict[str, str]:
    """Return the headers of a JSON request that ``source`` signs.

    Signed with the platform's own keys (``v1a``), its shared secret where it
    still has one (``v1``, the shared-secret scheme) and ``also_signed_with``.
    """
    secrets = [source.signing_secret] if source.signing_secret else []
    headers = delivery_headers(
        msg_id=f"msg_{uuid.uuid4().hex}",
        body=body,
        private_keys=signing_keys(source),
        secrets=[*secrets, *also_signed_with],
    )
    return headers | {
        "Content-Type": "application/json",
        PLATFORM_HEADER: source.domain,
    }


def envelope_send(
    *,
    source: Platform,
    target: Platform,
    body: bytes,
    also_signed_with: Sequence[str] = (),
) -> SendResult:
    """POST a signed envelope to a target's webhook and classify the answer.

    ``also_signed_with`` adds signatures by further secrets (the cluster's
    bootstrap secret, for a target that does not know the source yet).
    """
    headers = signed_headers(
        source=source, body=body, also_signed_with=also_signed_with
    )
    url = target.base_url + sync_settings.SYNC_WEBHOOK_URL
    try:
        response = _session.post(url, data=body, headers=headers, timeout=_timeout())
    except requests.RequestException as exc:
        return SendResult(ok=False, retryable=True, error=f"{url}: {exc}")
    if response.status_code < 300:
        return SendResult(ok=True, answer=_answer(response))
    error = f"{url} answered {response.status_code}: {response.text[:2000]}"
    if response.status_code == 429 or response.status_code >= 500:
        return SendResult(False, True, error, _retry_after(response))
    return SendResult(ok=False, retryable=False, error=error)


def api_get(*, platform: Platform, path: str, token: str, params=None) -> dict:
    """GET ``path`` from a platform's API as the holder of ``token``; return JSON.

    Raise ApiError naming the URL when the platform cannot be reached, refuses
    the request or answers something that is not a JSON object.
    """
    url = platform.base_url + path
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    try:
        response = _session.get(url, params=params, headers=headers, timeout=_timeout())
    except requests.RequestException as exc:
        raise ApiError(f"{url} is unreachable: {exc}") from None
    if response.status_code != 200:
        raise ApiError(f"{url} answered {response.status_code}: {response.text[:500]}")
    answer = _answer(response)
    if not answer:
        raise ApiError(f"{url} did not answer with a JSON object.")
    return answer
