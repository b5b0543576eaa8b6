"""A sync's field mappings: how source field names become target field names.

Shared by the target, which renames what it receives, and by the backup, which
digests records under the names the target stores them by. Privileged fields
(SYNC_PRIVILEGED_FIELDS, such as a user's password and staff flags) are
written only when a mapping names them as its target: an all-fields sync
leaves them alone.
"""

import re
from collections.abc import Iterable

from platforms.conf import sync_settings
from syncs.models import Sync

# From the environment a model's privileged fields come as one string.
_NAME_SEPARATORS = re.compile(r"[;,\s]+")


def privileged_fields(label: str) -> frozenset[str]:
    """Return the fields of model ``label`` that only a mapping may write here."""
    wanted = label.lower()
    for model, names in sync_settings.SYNC_PRIVILEGED_FIELDS.items():
        if model.lower() == wanted:
            if isinstance(names, str):
                names = _NAME_SEPARATORS.split(names)
            return frozenset(name for name in names if name)
    return frozenset()


def privileged_fields_mapped(sync: Sync) -> list[str]:
    """Return the privileged target fields that the sync's mappings write."""
    privileged = privileged_fields(sync.target_model)
    targets = (sync.field_mappings or {}).values()
    return sorted(privileged.intersection(targets))


def fields_mapped(sync: Sync, data: dict) -> dict:
    """Rename the fields of ``data`` by the sync's field mappings."""
    mappings = sync.field_mappings or {}
    kept = {}
    if sync.sync_all_fields:
        privileged = privileged_fields(sync.target_model)
        kept = {
            name: value
            for name, value in data.items()
            if name not in mappings and name not in privileged
        }
    # A mapped field wins over a sent field of the same name, whatever the order.
    return kept | {mappings[name]: v for name, v in data.items() if name in mappings}


def field_names_mapped(sync: Sync, names: Iterable[str]) -> list[str]:
    """Return the target names that the source fields ``names`` are stored by."""
    return list(fields_mapped(sync, dict.fromkeys(names)))


def target_fields_sent(sync: Sync, names: Iterable[str]) -> list[str]:
    """Return the target fields among ``names`` that the sync may write."""
    mappings = sync.field_mappings or {}
    targets = set(mappings.values())
    privileged = privileged_fields(sync.target_model)
    return [
        name
        for name in names
        if name in targets
        or (sync.sync_all_fields and name not in mappings and name not in privileged)
    ]
