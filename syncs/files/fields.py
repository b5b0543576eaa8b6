"""Which fields of a record hold files.

A model's FileFields (ImageField included) hold files; the FILE_SYNC_FIELD_SEARCH
words, which are all Moox had to go by, only put the fields named like files
first. A resolver (FILE_SYNC_RESOLVERS: model label -> class with
``file_fields(record) -> list[str]``) names a model's file fields instead,
which is also the only way to sync a CharField that holds a storage path.
"""

import logging

from django.core.exceptions import FieldDoesNotExist
from django.core.files.storage import Storage, default_storage
from django.db import models
from django.utils.module_loading import import_string

from platforms.conf import sync_settings

logger = logging.getLogger(__name__)
PATH_FIELDS = (models.FileField, models.CharField, models.TextField)


def file_resolver_for(label: str):
    """Return an instance of the resolver bound to a model label, or None."""
    bindings = {k.lower(): v for k, v in sync_settings.FILE_SYNC_RESOLVERS.items()}
    dotted_path = bindings.get(label.lower())
    return import_string(dotted_path)() if dotted_path else None


def model_file_fields(model: type[models.Model]) -> list[str]:
    """Return the names of a model's FileFields, those named like files first."""
    words = [word.lower() for word in sync_settings.FILE_SYNC_FIELD_SEARCH]
    fields = [f for f in model._meta.concrete_fields if isinstance(f, models.FileField)]
    # A stable sort: model order within each group.
    fields.sort(key=lambda f: not any(word in f.name.lower() for word in words))
    return [field.name for field in fields]


def path_field(model: type[models.Model], name: str) -> models.Field | None:
    """Return the concrete field ``name`` if it can hold a file's name, else None."""
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    if not field.concrete or field.primary_key or not isinstance(field, PATH_FIELDS):
        return None
    return field


def field_storage(field: models.Field) -> Storage:
    """Return the storage a field's files live in (default_storage for paths)."""
    return field.storage if isinstance(field, models.FileField) else default_storage


def record_file_fields(record: models.Model) -> list[models.Field]:
    """Return the fields of ``record`` that hold files, in the order to sync them."""
    model = type(record)
    resolver = file_resolver_for(model._meta.label)
    names = resolver.file_fields(record) if resolver else model_file_fields(model)
    fields = []
    for name in names:
        if (field := path_field(model, name)) is None:
            logger.warning(
                "%s names %s.%s as a file field, which is not a FileField, "
                "CharField or TextField of the model; ignored.",
                type(resolver).__name__,
                model._meta.label,
                name,
            )
            continue
        fields.append(field)
    return fields


def record_files(record: models.Model) -> list[tuple[models.Field, str]]:
    """Return each file field of ``record`` holding a file, with the file's name."""
    found = []
    for field in record_file_fields(record):
        value = getattr(record, field.attname)
        name = value.name if isinstance(value, models.fields.files.FieldFile) else value
        if name:
            found.append((field, str(name)))
    return found
