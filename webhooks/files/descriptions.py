"""Turn the file descriptions of an applied event into the values to write.

An event carries ``{"name", "size", "sha256"}`` (or ``"refused"``) for a file
field; the file itself comes by the file endpoints, before or after. So a
field keeps the file it points at, unless an identical file is already stored
under the described name, in which case it points there; a new record's file
fields stay empty. Finalize points the field at a file once it has arrived.
"""

import logging

from django.core.exceptions import SuspiciousFileOperation
from django.core.files.utils import validate_file_name
from django.db import models

from syncs.files.fields import field_storage, path_field
from syncs.files.metadata import file_metadata_read
from webhooks.files.allowlist import field_takes_files
from webhooks.files.services import stored_file_matches

logger = logging.getLogger(__name__)


def _current_names(model, record, names: list[str]) -> dict[str, str]:
    """Read the fields afresh, locking the row: a finalize may just have set them."""
    if record is None:
        return {}
    fields = {name: field for name in names if (field := path_field(model, name))}
    row = (
        model._default_manager.select_for_update()
        .filter(pk=record.pk)
        .values(*[field.attname for field in fields.values()])
        .first()
    ) or {}
    return {name: row.get(field.attname) or "" for name, field in fields.items()}


def _same_name_stored(field: models.Field, meta: dict) -> bool:
    try:
        validate_file_name(meta["name"], allow_relative_path=True)
    except SuspiciousFileOperation:
        return False
    return stored_file_matches(
        storage=field_storage(field),
        name=meta["name"],
        size=meta["size"],
        sha256=meta["sha256"],
    )


def _value_to_write(model, record, name: str, meta: dict, current: str | None):
    """Return what field ``name`` should hold, or None to leave it out."""
    field = path_field(model, name)
    if field is None or not field_takes_files(model, field, record):
        return current
    if "refused" in meta:
        logger.info(
            "File %r of %s.%s was refused by its sender (%s); the field keeps "
            "what it holds.",
            meta["name"],
            model._meta.label,
            name,
            meta["refused"],
        )
        return current
    if current and stored_file_matches(
        storage=field_storage(field),
        name=current,
        size=meta["size"],
        sha256=meta["sha256"],
    ):
        return current  # it holds this very file already
    if _same_name_stored(field, meta):
        return meta["name"]
    return current


def file_descriptions_resolve(*, model, record, data: dict) -> dict:
    """Return ``data`` with each file description replaced by the value to write."""
    described = {
        name: meta
        for name, value in data.items()
        if (meta := file_metadata_read(value)) is not None
    }
    if not described:
        return data
    values = {name: value for name, value in data.items() if name not in described}
    current = _current_names(model, record, list(described))
    for name, meta in described.items():
        value = _value_to_write(model, record, name, meta, current.get(name))
        if value is not None:
            values[name] = value
    return values
