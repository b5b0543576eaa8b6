"""A sync's field mappings: how source field names become target field names.

Shared by the target, which renames what it receives, and by the backup, which
digests records under the names the target stores them by.
"""

from collections.abc import Iterable

from syncs.models import Sync


def fields_mapped(sync: Sync, data: dict) -> dict:
    """Rename the fields of ``data`` by the sync's field mappings."""
    mappings = sync.field_mappings or {}
    kept = {}
    if sync.sync_all_fields:
        kept = {name: value for name, value in data.items() if name not in mappings}
    # A mapped field wins over a sent field of the same name, whatever the order.
    return kept | {mappings[name]: v for name, v in data.items() if name in mappings}


def field_names_mapped(sync: Sync, names: Iterable[str]) -> list[str]:
    """Return the target names that the source fields ``names`` are stored by."""
    return list(fields_mapped(sync, dict.fromkeys(names)))
