"""Which model field a file request may fill: the allow-list of the file endpoints.

A request names the sync's models, the record's key and the source's field,
as events do. It is served only when an active sync from the sender to this
platform covers the models and sends that field (after field mappings), and
the target field is a FileField, or a CharField or TextField that this
platform's resolver names as a file field.
"""

from dataclasses import dataclass

from django.core.files.storage import Storage
from django.db import models

from platforms.models import Platform
from syncs.files.fields import field_storage, file_resolver_for, path_field
from syncs.files.policy import file_refusal
from syncs.identity import IdentityError, model_identifier_require, record_find
from syncs.mapping import fields_mapped
from syncs.models import Sync
from webhooks.envelope import envelope_sync_for, target_model_of
from webhooks.signed import SignedRequestRefused

# The refusals of the file policy and the statuses they are answered with.
POLICY_STATUS = {"extension_not_allowed": 415, "file_too_large": 413}


@dataclass(frozen=True)
class FileDestination:
    """Where a received file goes: the sync, the target field and the record key."""

    source: Platform
    sync: Sync
    model: type[models.Model]
    field: models.Field
    identifier: str
    key: object

    @property
    def storage(self) -> Storage:
        return field_storage(self.field)

    def record(self, *, lock: bool = False) -> models.Model | None:
        """Return the target record, locked for update if asked, or None."""
        found = record_find(self.model, self.identifier, self.key)
        if found is None or not lock:
            return found
        return self.model._default_manager.select_for_update().get(pk=found.pk)


def _sync_for(data: dict, *, source: Platform, target: Platform) -> Sync:
    return envelope_sync_for(data, source=source, target=target, syncs={})


def _target_field(sync: Sync, source_field: str) -> tuple[type[models.Model], str]:
    """Return the target model and the name the sync gives ``source_field`` there."""
    mapped = list(fields_mapped(sync, {source_field: None}))
    if not mapped:
        raise SignedRequestRefused(
            "field_not_allowed",
            f"The sync does not send {sync.source_model}.{source_field[:100]}.",
            403,
        )
    return target_model_of(sync), mapped[0]


def field_takes_files(model, field: models.Field, record) -> bool:
    """Tell whether ``field`` may be pointed at a received file here."""
    if isinstance(field, models.FileField):
        return True
    # A text field takes a file only when this platform says it holds one.
    resolver = file_resolver_for(model._meta.label)
    return resolver is not None and field.name in resolver.file_fields(
        record or model()
    )


def _file_field(model, name: str, record) -> models.Field:
    """Return the field ``name`` if it may hold a received file, or refuse."""
    field = path_field(model, name)
    if field is None:
        raise SignedRequestRefused(
            "not_a_file_field",
            f"{model._meta.label} has no field {name!r} that can hold a file.",
            400,
        )
    if not field_takes_files(model, field, record):
        raise SignedRequestRefused(
            "field_not_allowed",
            f"{model._meta.label}.{name} is not a file field here "
            "(no FILE_SYNC_RESOLVERS entry names it).",
            403,
        )
    return field


def file_policy_check(*, name: str, size: int) -> None:
    """Refuse a file whose extension or size FILE_SYNC_* settings do not allow."""
    if refusal := file_refusal(name=name, size=size):
        status = POLICY_STATUS[refusal.code]
        raise SignedRequestRefused(refusal.code, refusal.detail, status)


def file_destination_resolve(
    *, source: Platform, target: Platform, data: dict
) -> FileDestination:
    """Return where the file of a request goes, or raise SignedRequestRefused."""
    sync = _sync_for(data, source=source, target=target)
    model, name = _target_field(sync, data["field"])
    try:
        identifier = model_identifier_require(sync.target_model)
    except IdentityError as exc:
        raise SignedRequestRefused("no_identity", str(exc), 400) from None
    record = record_find(model, identifier, data["key"])
    field = _file_field(model, name, record)
    file_policy_check(name=data["name"], size=data["size"])
    return FileDestination(source, sync, model, field, identifier, data["key"])
