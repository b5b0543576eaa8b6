"""Ask a target's digest endpoint, signed like the webhook; count the bytes."""

import json

import requests

from platforms.conf import sync_settings
from platforms.models import Platform
from platforms.transport import answer_json, signed_post
from syncs.backup.errors import BackupError

DIGEST_PATH = "/digest/"


def _head_size(first_line: str, headers) -> int:
    """Return the bytes of an HTTP/1.1 start line and headers."""
    fields = sum(len(name) + len(value) + 4 for name, value in headers.items())
    return len(first_line) + 2 + fields + 2


class DigestClient:
    """Signed POSTs to one target's digest endpoint, metered both ways."""

    def __init__(self, *, source: Platform, target: Platform) -> None:
        self.source = source
        self.url = target.base_url + sync_settings.SYNC_WEBHOOK_URL + DIGEST_PATH
        self.host = target.domain
        self.requests = 0
        self.bytes_sent = 0
        self.bytes_received = 0

    @property
    def bytes_total(self) -> int:
        return self.bytes_sent + self.bytes_received

    def ask(self, payload: dict) -> dict:
        """POST ``payload``; return the JSON answer or raise BackupError."""
        body = json.dumps(payload, separators=(",", ":")).encode()
        try:
            response = signed_post(
                source=self.source,
                url=self.url,
                body=body,
                timeout=sync_settings.SYNC_BACKUP_TIMEOUT,
            )
        except requests.RequestException as exc:
            raise BackupError(f"{self.url} is unreachable: {exc}") from None
        self._meter(response, body)
        if response.status_code != 200:
            raise BackupError(
                f"{self.url} answered {response.status_code}: {response.text[:500]}"
            )
        if not (answer := answer_json(response)):
            raise BackupError(f"{self.url} did not answer with a JSON object.")
        return answer

    def _meter(self, response: requests.Response, body: bytes) -> None:
        sent = response.request
        self.requests += 1
        self.bytes_sent += (
            _head_size(f"POST {sent.path_url} HTTP/1.1", sent.headers)
            + len(f"Host: {self.host}\r\n")
            + len(body)
        )
        self.bytes_received += _head_size(
            f"HTTP/1.1 {response.status_code} {response.reason}", response.headers
        ) + len(response.content)
