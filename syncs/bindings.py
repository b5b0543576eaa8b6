"""Transformer and handler bindings: classes named by dotted path in settings.

A transformer (SYNC_TRANSFORMER_BINDINGS, by source model) turns a record into
the dict of fields to send (``transform(record) -> dict``) and may ask for its
delivery to wait (``delay(record) -> seconds``, optional). A handler
(SYNC_BINDINGS, by target model) replaces the default upsert on the target:
``sync(*, sync, key, data)`` and ``delete(*, sync, key)``, run in the
transaction of the batch.
"""

from functools import cache

from django.utils.module_loading import import_string

from platforms.conf import sync_settings


@cache
def _load(setting: str, label: str):
    bindings = {k.lower(): v for k, v in getattr(sync_settings, setting).items()}
    dotted_path = bindings.get(label.lower())
    return import_string(dotted_path)() if dotted_path else None


def transformer_for(label: str):
    """Return the transformer bound to a source model label, or None."""
    return _load("SYNC_TRANSFORMER_BINDINGS", label)


def handler_for(label: str):
    """Return the sync handler bound to a target model label, or None."""
    return _load("SYNC_BINDINGS", label)


def bindings_reset() -> None:
    """Forget loaded bindings (after settings change, in tests)."""
    _load.cache_clear()
