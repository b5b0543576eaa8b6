"""Record identity across platforms: natural keys, else a unique identifier field.

Records are never matched by their auto-increment id, which differs per
platform. Values travel as Django's serializers write them, with natural keys
for foreign keys and many-to-many values.
"""

import hashlib
import json

from django.apps import apps
from django.core import serializers
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from platforms.conf import sync_settings

NATURAL_KEY = "natural_key"


class IdentityError(Exception):
    """A model offers no key to match its records across platforms."""


def model_supports_natural_key(model: type[models.Model]) -> bool:
    """Tell whether the model defines natural_key() and get_by_natural_key()."""
    return hasattr(model, "natural_key") and hasattr(
        model._default_manager, "get_by_natural_key"
    )


def model_identifier(model: type[models.Model]) -> str | None:
    """Return how records of ``model`` are matched: "natural_key" or a field name."""
    if model_supports_natural_key(model):
        return NATURAL_KEY
    for name in sync_settings.SYNC_UNIQUE_IDENTIFIER_FIELDS:
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        if getattr(field, "unique", False) and field.concrete:
            return name
    return None


def model_identifier_require(label: str) -> str:
    """Return the identifier of an installed model, or raise IdentityError."""
    model = apps.get_model(label)
    identifier = model_identifier(model)
    if identifier is None:
        fields = ", ".join(sync_settings.SYNC_UNIQUE_IDENTIFIER_FIELDS)
        raise IdentityError(
            f"{label} has no natural key and none of the unique identifier fields "
            f"({fields}) is a unique field on it, so its records cannot be "
            "matched across platforms. Give it natural_key() and a manager with "
            "get_by_natural_key(), or a unique field from that list."
        )
    return identifier


def record_key(record: models.Model, identifier: str):
    """Return the cross-platform key of a record (a list for natural keys)."""
    return json.loads(record_key_json(record, identifier))


def record_key_json(record: models.Model, identifier: str) -> str:
    """Return the cross-platform key of a record as JSON text."""
    # Keys are stored in JSON fields and travel in JSON: a UUID, date or Decimal
    # must already be the value the other side reads back.
    if identifier == NATURAL_KEY:
        key = record.natural_key()  # a tuple: JSON writes it as an array
    else:
        key = getattr(record, identifier)
    return json.dumps(key, cls=DjangoJSONEncoder)


def record_key_digest(key) -> str:
    """Return a short stable digest of a key, for indexes and lookups."""
    encoded = json.dumps(key, cls=DjangoJSONEncoder, separators=(",", ":"))
    return hashlib.sha256(encoded.encode()).hexdigest()[:40]


def record_find(model: type[models.Model], identifier: str, key):
    """Return the record of ``model`` with this key, or None."""
    manager = model._default_manager
    try:
        if identifier == NATURAL_KEY:
            if not isinstance(key, list):
                return None
            return manager.get_by_natural_key(*key)
        return manager.get(**{identifier: key})
    except (model.DoesNotExist, TypeError, ValueError, ValidationError):
        return None  # a key of the wrong shape (e.g. not a UUID) matches nothing


def records_serialize(records: list[models.Model]) -> list[dict]:
    """Return each record's fields as Django's python serializer writes them."""
    return [
        row["fields"]
        for row in serializers.serialize(
            "python", records, use_natural_foreign_keys=True
        )
    ]
