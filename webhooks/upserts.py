"""Plan a batch of plain upserts: every event's record found with a query per model.

SyncJob applies a batch event by event, each in a savepoint, each record
looked up on its own. A batch that only creates or updates distinct records
(no delete, no handler binding, no platform relations, no if_exists error)
needs none of that: its records are read in one query per model, and it is
written in one savepoint (see apply._upserts_run). Whatever this module cannot
answer as the event-by-event path would (a record owned by another source
record, a key it cannot look up in bulk) makes the plan None, and the batch
goes event by event as before.
"""

import json
from dataclasses import dataclass

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models

from platforms.conf import sync_settings
from syncs.bindings import handler_for
from syncs.identity import (
    NATURAL_KEY,
    IdentityError,
    model_identifier_require,
    record_key,
    record_key_digest,
)
from syncs.models import EventType, Sync
from webhooks.links import Links, link_slot
from webhooks.models import InboxEvent


@dataclass
class Upsert:
    """One event of a planned batch, the record it writes, and its outcome."""

    event: InboxEvent
    model: type[models.Model]
    existing: models.Model | None
    status: str = ""
    target_pk: str = ""
    error: Exception | None = None


class _Unplannable(Exception):
    """The batch needs the event-by-event path."""


def _plain(event: InboxEvent) -> bool:
    """Tell whether the event only creates or updates its record, by default."""
    return not (
        event.should_delete
        or event.event_type == EventType.DELETED
        or event.sync.if_exists == Sync.IfExists.ERROR
        or handler_for(event.sync.target_model)
        or (
            event.platforms is not None
            and event.model_label in sync_settings.SYNC_MODELS_WITH_PLATFORM_RELATIONS
        )
    )


def _record_slots(event: InboxEvent) -> list[tuple]:
    slots = [(event.model_label, "key", record_key_digest(event.object_key))]
    if event.source_pk:
        slots.append((event.model_label, event.source_platform_id, event.source_pk))
    return slots


def _distinct(events: list[InboxEvent]) -> bool:
    """Tell whether no two events are for the same record (by key or source pk)."""
    slots = [slot for event in events for slot in _record_slots(event)]
    return len(slots) == len(set(slots))


def _model_of(label: str) -> type[models.Model]:
    try:
        model = apps.get_model(label)
        model_identifier_require(label)
    except (LookupError, ValueError, IdentityError):
        raise _Unplannable from None  # the event fails on the other path
    # Checked only by validate_unique, which a planned batch leaves to the
    # database's constraints.
    if any(
        f.unique_for_date or f.unique_for_month or f.unique_for_year
        for f in model._meta.fields
    ):
        raise _Unplannable
    return model


def _natural_key_field(probe: models.Model) -> models.Field | None:
    """Return the one field a record's natural key is the value of, or None.

    Found as syncs.digest's key_queryset finds a key's fields: by asking a
    record loaded without them for its natural key.
    """
    deferred = probe.get_deferred_fields()
    try:
        key = probe.natural_key()
    except Exception:
        return None
    read = deferred - probe.get_deferred_fields()
    if len(read) != 1 or not isinstance(key, tuple | list) or len(key) != 1:
        return None
    field = next(f for f in probe._meta.concrete_fields if f.attname in read)
    if field.is_relation or getattr(probe, field.attname) != key[0]:
        return None
    return field


# Per model: the field its natural key is the value of, or None.
_natural_key_fields: dict[type[models.Model], models.Field | None] = {}


def _key_field(model: type[models.Model], identifier: str) -> models.Field | None:
    """Return the field the records' keys are the value of; None if no record."""
    if identifier != NATURAL_KEY:
        return model._meta.get_field(identifier)
    if model not in _natural_key_fields:
        probe = model._default_manager.only("pk").first()
        if probe is None:
            return None  # nothing to find
        _natural_key_fields[model] = _natural_key_field(probe)
    if (field := _natural_key_fields[model]) is None:
        raise _Unplannable  # a natural key of several fields: looked up one by one
    return field


def _text(key) -> str:
    return json.dumps(key, separators=(",", ":"))


def _records_by_key(model, identifier: str, keys: list) -> dict[str, models.Model]:
    """Return the records that have one of ``keys``, by the key's JSON text.

    As record_find finds them: a key of the wrong shape finds nothing.
    """
    field = _key_field(model, identifier)
    if field is None:
        return {}
    if identifier == NATURAL_KEY:
        keys = [key[0] for key in keys if isinstance(key, list) and len(key) == 1]
    values = []
    for value in keys:
        try:
            values.append(field.to_python(value))
        except (TypeError, ValueError, ValidationError):
            continue
    found: dict[str, models.Model] = {}
    for record in model._default_manager.filter(**{f"{field.name}__in": values}):
        text = _text(record_key(record, identifier))
        if text in found:
            raise _Unplannable  # two records answer to one key
        found[text] = record
    return found


def _linked_records(model, events, links: Links) -> dict[str, models.Model]:
    """Return the records the events' source records are linked to, by pk."""
    pks = {
        link.target_pk
        for event in events
        if event.source_pk
        and (link := links.get(link_slot(event))) is not None
        and link.target_pk
    }
    if not pks:
        return {}
    return {str(r.pk): r for r in model._default_manager.filter(pk__in=pks)}


def _existing(event: InboxEvent, found: dict, linked: dict, links: Links):
    """Return the event's record (as _record_of would), or raise _Unplannable."""
    record = found.get(_text(event.object_key))
    if not event.source_pk:
        return record
    link = links.get(link_slot(event))
    mine = linked.get(link.target_pk) if link and link.target_pk else None
    if mine is None:
        if record is not None:
            raise _Unplannable  # whose is it? The other path asks the links.
        return None
    if record is not None and record.pk != mine.pk:
        raise _Unplannable  # a rename onto a taken key: the other path refuses it
    return mine


def upserts_plan(events: list[InboxEvent], links: Links) -> list[Upsert] | None:
    """Return the events with their records, or None if not all are plain upserts.

    The events must be for active syncs and not stale.
    """
    if not all(_plain(event) for event in events) or not _distinct(events):
        return None
    by_label: dict[str, list[InboxEvent]] = {}
    for event in events:
        by_label.setdefault(event.model_label, []).append(event)
    planned: dict[int, Upsert] = {}
    try:
        for label, group in by_label.items():
            model = _model_of(label)
            identifier = model_identifier_require(label)
            found = _records_by_key(model, identifier, [e.object_key for e in group])
            linked = _linked_records(model, group, links)
            for event in group:
                existing = _existing(event, found, linked, links)
                planned[id(event)] = Upsert(event, model, existing)
    except _Unplannable:
        return None
    return [planned[id(event)] for event in events]
