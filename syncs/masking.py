"""Hide secrets in data shown to people (the delivery log's payloads)."""

import re

MASK = "••••"
SECRET_KEY_RE = re.compile(r"password|token|secret|api_key|private_key", re.IGNORECASE)


def secrets_mask(value):
    """Return ``value`` with the value of every secret-looking key replaced.

    Walk dicts and lists; a key matching password, token, secret, api_key or
    private_key (any case, anywhere in the key) keeps its name but not its value.
    """
    if isinstance(value, dict):
        return {
            key: MASK if SECRET_KEY_RE.search(str(key)) else secrets_mask(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [secrets_mask(item) for item in value]
    return value
