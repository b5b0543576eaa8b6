"""Build envelopes and POST them to the sync webhook signed like a source does."""

import json
import time
import uuid

from django.contrib.auth.hashers import make_password

from platforms.conf import sync_settings
from platforms.keys import signing_keys
from platforms.signing import (
    PRIVATE_KEY_PREFIX,
    delivery_headers,
    delivery_sign,
    key_sign,
)
from platforms.transport import PLATFORM_HEADER


def user_data(username: str, password: str = "original-pass", **fields) -> dict:
    """Return an auth.User's fields as the sender's serializer writes them."""
    return {
        "password": make_password(password),
        "last_login": None,
        "is_superuser": False,
        "username": username,
        "first_name": "",
        "last_name": "",
        "email": f"{username}@example.com",
        "is_staff": False,
        "is_active": True,
        "date_joined": "2024-05-01T12:00:00Z",
        "groups": [],
        "user_permissions": [],
    } | fields


def user_event(username: str, *, version: int = 1, **overrides) -> dict:
    """Return one event that creates or updates the auth.User ``username``."""
    event = {
        "id": f"evt-{uuid.uuid4().hex}",
        "version": version,
        "type": "created",
        "model": "auth.User",
        "source_model": "auth.User",
        "key": [username],
        "data": user_data(username),
        "should_delete": False,
    }
    return event | overrides


def envelope(source: str, events: list) -> bytes:
    """Return the JSON body of an envelope from ``source``."""
    return json.dumps({"source": source, "events": events}).encode()


def signing_material(platform) -> str:
    """Return what ``platform`` signs with here: its private key, else its secret."""
    keys = signing_keys(platform)
    return keys[0] if keys else platform.signing_secret


def signed_headers(
    body: bytes, *, secret: str, domain: str, timestamp: int | None = None
) -> dict[str, str]:
    """Return the headers a platform named ``domain`` signing with ``secret`` sends.

    ``secret`` is a ``whsk_`` private key (``v1a``) or a ``whsec_`` secret (``v1``).
    """
    msg_id = f"msg_{uuid.uuid4().hex}"
    keyed = secret.startswith(PRIVATE_KEY_PREFIX)
    if timestamp is None:
        headers = delivery_headers(
            msg_id=msg_id,
            body=body,
            private_keys=[secret] if keyed else [],
            secrets=[] if keyed else [secret],
        )
    else:
        sign = key_sign if keyed else delivery_sign
        material = {"private_key": secret} if keyed else {"secret": secret}
        headers = {
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(
                **material, msg_id=msg_id, timestamp=timestamp, body=body
            ),
        }
    return headers | {PLATFORM_HEADER: domain}


def webhook_post(client, body: bytes, *, sender, headers: dict | None = None):
    """POST ``body`` to the webhook, freshly signed by ``sender`` unless overridden."""
    signed = signed_headers(body, secret=signing_material(sender), domain=sender.domain)
    return client.post(
        sync_settings.SYNC_WEBHOOK_URL,
        data=body,
        content_type="application/json",
        headers=signed | (headers or {}),
    )


def old_timestamp(seconds: int) -> int:
    """Return the Unix time ``seconds`` ago."""
    return int(time.time()) - seconds
