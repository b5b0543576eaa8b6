"""Platform credentials: API tokens and Standard Webhooks signing secrets."""

import base64
import hmac
import secrets

API_TOKEN_BYTES = 40  # 80 hex characters, Moox's column width
SECRET_PREFIX = "whsec_"


def api_token_generate() -> str:
    """Return a new random API token (80 hex characters)."""
    return secrets.token_hex(API_TOKEN_BYTES)


def signing_secret_generate() -> str:
    """Return a new random signing secret in Standard Webhooks ``whsec_`` form."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def tokens_match(given: str, expected: str) -> bool:
    """Compare two tokens in constant time."""
    return hmac.compare_digest(given.encode(), expected.encode())
