"""Read, check and write an event's values onto its record (SyncJob's upsert).

Values are read as Django's python deserializer reads them, related records
by natural key, and checked as the model's fields define them (types,
max_length, choices, foreign keys and many-to-many values that exist, unique
fields), so that a bad value fails its own event with a message naming the
field, not its whole batch with a database error at commit. A file field is
set only by the file transfer: a path in an event's data is never written.
Privileged fields (SYNC_PRIVILEGED_FIELDS) are written only when the sync's
field mappings name them.
"""

from dataclasses import dataclass, field
from typing import Any

from django.core import validators
from django.core.exceptions import (
    NON_FIELD_ERRORS,
    MultipleObjectsReturned,
    ObjectDoesNotExist,
    SuspiciousFileOperation,
    ValidationError,
)
from django.core.files.utils import validate_file_name
from django.db import models
from django.utils.text import Truncator

from syncs.files.fields import file_resolver_for, path_field
from syncs.files.metadata import file_metadata_read
from syncs.identity import model_supports_natural_key
from syncs.mapping import privileged_fields, target_fields_sent
from syncs.models import Sync
from webhooks.files.allowlist import field_takes_files

MESSAGE_MAX = 300
# What a column holds, on any engine: sizes and ranges. Format rules (an
# e-mail address, a username's characters) are the source's to keep: a record
# it holds is not refused here for them.
SIZE_VALIDATORS = (
    validators.MaxLengthValidator,
    validators.MinValueValidator,
    validators.MaxValueValidator,
    validators.DecimalValidator,
    validators.ProhibitNullCharactersValidator,
)


class EventDataInvalid(Exception):
    """An event's data holds values its target model's fields do not accept."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        super().__init__(
            " ".join(
                f"{_where(name)}: {Truncator(' '.join(texts)).chars(MESSAGE_MAX)}"
                for name, texts in errors.items()
            )
        )


def _where(name: str) -> str:
    return "record" if name == NON_FIELD_ERRORS else name


@dataclass
class RecordValues:
    """An event's data as a record takes it: attribute values and m2m pks."""

    attributes: dict[str, Any] = field(default_factory=dict)
    many: dict[str, list] = field(default_factory=dict)


def _label(model: type[models.Model]) -> str:
    return model._meta.label


def _natural_record(related: type[models.Model], key) -> models.Model:
    """Return the ``related`` record with natural key ``key``."""
    if not isinstance(key, list):
        raise ValidationError(
            f"{Truncator(repr(key)).chars(80)} is not a natural key: records of "
            f"{_label(related)} travel by natural key (a list)."
        )
    try:
        return related._default_manager.get_by_natural_key(*key)
    except (ObjectDoesNotExist, MultipleObjectsReturned, TypeError, ValueError):
        key_text = Truncator(repr(key)).chars(80)
        raise ValidationError(
            f"no {_label(related)} has the natural key {key_text}."
        ) from None


def _foreign_read(field: models.ForeignKey, value) -> Any:
    """Return the value of a foreign key's column, as deserialize_fk_value does."""
    related = field.remote_field.model
    if value is None:
        return None
    if not model_supports_natural_key(related):
        # Whether that record exists is the field's own check (clean_fields).
        return related._meta.get_field(field.remote_field.field_name).to_python(value)
    found = getattr(_natural_record(related, value), field.remote_field.field_name)
    # A natural key of a child model (multi-table inheritance) points at its pk.
    return found.pk if related._meta.pk.remote_field else found


def _many_read(field: models.ManyToManyField, value) -> list:
    related = field.remote_field.model
    if not isinstance(value, list):
        raise ValidationError("Expected a list.")
    if model_supports_natural_key(related):
        return [_natural_record(related, key).pk for key in value]
    pks = [related._meta.pk.to_python(item) for item in value]
    found = set(related._base_manager.filter(pk__in=pks).values_list("pk", flat=True))
    if missing := [pk for pk in pks if pk not in found]:
        raise ValidationError(f"no {_label(related)} has the id {missing[0]!r}.")
    return pks


def record_values_read(model: type[models.Model], data: dict) -> RecordValues:
    """Return ``data`` read into values of ``model``; raise EventDataInvalid."""
    values, errors = RecordValues(), {}
    for name, value in data.items():
        field = model._meta.get_field(name)
        try:
            if field.many_to_many:
                values.many[name] = _many_read(field, value)
            elif field.remote_field:
                values.attributes[field.attname] = _foreign_read(field, value)
            else:
                values.attributes[field.attname] = field.to_python(value)
        except ValidationError as exc:
            errors[name] = exc.messages
        except (TypeError, ValueError) as exc:
            errors[name] = [str(exc)]
    if errors:
        raise EventDataInvalid(errors)
    return values


def _field_errors(record: models.Model, field, *, carried: bool) -> list[str]:
    """Return what is wrong with the record's value of ``field``, if anything."""
    value = getattr(record, field.attname)
    if field.blank and value in field.empty_values:
        return []
    try:
        field.validate(value, record)  # choices, null, blank, a foreign key's row
    except ValidationError as exc:
        # A value the source holds may be blank; a create must not miss one.
        if not (carried and exc.code == "blank"):
            return exc.messages
    if value in field.empty_values:
        return []
    errors = []
    for validator in field.validators:
        if isinstance(validator, SIZE_VALIDATORS):
            try:
                validator(value)
            except ValidationError as exc:
                errors += exc.messages
    return errors


def record_values_check(
    record: models.Model, *, checked: set[str], carried: set[str], unique: bool = True
) -> None:
    """Check the ``checked`` fields of a record about to be written.

    As full_clean() does, with three differences, since the target stores what
    the source holds: the model's clean() is left out (auth.User's rewrites the
    email), only the sizes and ranges of SIZE_VALIDATORS are checked, and a
    blank value is refused only where the event (``carried``) did not send it.
    ``unique=False`` leaves the unique fields to the database's constraints
    (one query less per record, for a caller that handles the IntegrityError).
    """
    fields = [field for field in record._meta.fields if field.name in checked]
    errors: dict = {
        field.name: found
        for field in fields
        if not getattr(field, "generated", False)
        and (found := _field_errors(record, field, carried=field.name in carried))
    }
    exclude = {field.name for field in record._meta.fields} - checked | set(errors)
    checks = (record.validate_unique,) if unique else ()
    for check in (*checks, record.validate_constraints):
        try:
            check(exclude=exclude)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
    if errors:
        raise EventDataInvalid(ValidationError(errors).message_dict)


def _file_value_kept(name: str, value) -> bool:
    """Tell whether a file field's value goes on to be resolved; refuse a bad one."""
    if value in ("", None) or file_metadata_read(value) is not None:
        return True  # emptied, or a description resolved when applied
    if not isinstance(value, str):
        raise EventDataInvalid(
            {name: ["A file field takes a file description, not this value."]}
        )
    try:
        validate_file_name(value, allow_relative_path=True)
    except SuspiciousFileOperation:
        raise EventDataInvalid(
            {name: [f"{Truncator(repr(value)).chars(80)} is not a safe file name."]}
        ) from None
    return False  # a path: only the file transfer points a field at a file


def field_holds_files(model: type[models.Model], name: str, record) -> bool:
    """Tell whether the field ``name`` of ``model`` takes files here."""
    field = path_field(model, name)
    return field is not None and field_takes_files(model, field, record)


def _model_takes_files(model: type[models.Model]) -> bool:
    """Tell whether any field of ``model`` may take files (see field_takes_files)."""
    return file_resolver_for(model._meta.label) is not None or any(
        isinstance(field, models.FileField) for field in model._meta.concrete_fields
    )


def file_values_screen(model: type[models.Model], record, data: dict) -> dict:
    """Return ``data`` without the paths given for file fields; refuse bad values."""
    if not _model_takes_files(model):
        return data  # asked field by field, this is most of an event's reading
    return {
        name: value
        for name, value in data.items()
        if not field_holds_files(model, name, record) or _file_value_kept(name, value)
    }


def _fields_checked(model, sync: Sync, existing, data: dict) -> set[str]:
    """Return the fields whose values are checked before the record is written.

    An update checks the fields it writes. A create checks every field the
    sync sends, carried or not (so empty data cannot make a user named ""),
    but the file fields, which only the file transfer fills.
    """
    if existing:
        return set(data)
    names = [field.name for field in model._meta.fields]
    files = _model_takes_files(model)
    return set(data) | {
        name
        for name in target_fields_sent(sync, names)
        if not (files and field_holds_files(model, name, None))
    }


def record_values_write(
    model, existing, data: dict, *, sync: Sync, unique_checked: bool = True
):
    """Write ``data`` onto ``existing`` (or a new record) once its values check.

    ``unique_checked=False``: see record_values_check's ``unique``.
    """
    values = record_values_read(model, data)
    record = existing or model()
    for attname, value in values.attributes.items():
        setattr(record, attname, value)
    record_values_check(
        record,
        checked=_fields_checked(model, sync, existing, data),
        carried=set(data),
        unique=unique_checked,
    )
    record.save()
    for name, pks in values.many.items():
        if existing or pks:  # a new record has no links to clear
            getattr(record, name).set(pks)
    return record


def privileged_screen(sync: Sync, data: dict) -> dict:
    """Drop the privileged fields the sync's mappings do not name.

    The webhook drops them already; this holds for events stored before a
    mapping changed.
    """
    privileged = privileged_fields(sync.target_model)
    mapped = set((sync.field_mappings or {}).values())
    return {
        name: value
        for name, value in data.items()
        if name not in privileged or name in mapped
    }
