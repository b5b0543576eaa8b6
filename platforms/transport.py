"""HTTP between platforms: signed POSTs, the API GET with a token, the backoff."""

import email.utils
import random
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


def _timeout(seconds: float | None = None) -> tuple[float, float]:
    return (3.05, seconds or sync_settings.SYNC_HTTP_TIMEOUT)


def retry_delay(attempts: int, retry_after: float | None = None) -> float:
    """Return seconds before the next try of a request that failed ``attempts`` times.

    The target's Retry-After where it gave one, else an exponential backoff
    with jitter; never more than SYNC_RETRY_MAX_SECONDS.
    """
    if retry_after is not None:
        return min(retry_after, sync_settings.SYNC_RETRY_MAX_SECONDS)
    ceiling = sync_settings.SYNC_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0)
    delay = min(ceiling, sync_settings.SYNC_RETRY_MAX_SECONDS)
    return delay * random.uniform(0.5, 1.0)  # jitter


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


def answer_json(response: requests.Response) -> dict:
    """Return the response's JSON object, or {} when it is none."""
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


def signed_post(
    *,
    source: Platform,
    url: str,
    body: bytes,
    also_signed_with: Sequence[str] = (),
    timeout: float | None = None,
) -> requests.Response:
    """POST a JSON body that ``source`` signs; raise requests.RequestException.

    ``timeout`` is the seconds to wait for the answer (SYNC_HTTP_TIMEOUT).
    """
    headers = signed_headers(
        source=source, body=body, also_signed_with=also_signed_with
    )
    return _session.post(url, data=body, headers=headers, timeout=_timeout(timeout))


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
    url = target.base_url + sync_settings.SYNC_WEBHOOK_URL
    try:
        response = signed_post(
            source=source, url=url, body=body, also_signed_with=also_signed_with
        )
    except requests.RequestException as exc:
        return SendResult(ok=False, retryable=True, error=f"{url}: {exc}")
    if response.status_code < 300:
        return SendResult(ok=True, answer=answer_json(response))
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
    answer = answer_json(response)
    if not answer:
        raise ApiError(f"{url} did not answer with a JSON object.")
    return answer
