"""The webhook envelope: its one schema, and its build from outbox rows.

EnvelopeSerializer is what an envelope is: the target validates every body it
receives with it, and envelope_build (PrepareSyncJob's part) writes to it.
Rows are turned into events carrying the record's state at delivery time, so
several changes of one record in a batch travel as one event with the newest
version; a record that is gone travels as a delete.
"""

import json
from collections import defaultdict

from django.apps import apps
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import prefetch_related_objects
from rest_framework import serializers

from platforms.api.integers import INT64_MAX, INT64_MIN, Int64Field
from platforms.conf import sync_settings
from platforms.models import Platform
from platforms.selectors import platform_domains_of
from syncs.bindings import transformer_for
from syncs.digest.records import digest_queryset, records_data
from syncs.files.metadata import event_data_with_files
from syncs.identity import record_key_digest
from syncs.models import MODEL_LABEL_RE, EventType, OutboxEvent, Sync

MAX_EVENTS = 5000


def _key_part(value) -> bool:
    if isinstance(value, bool):
        return False
    # A key is looked up in the database: an integer must fit its columns.
    return isinstance(value, str) or (
        isinstance(value, int) and INT64_MIN <= value <= INT64_MAX
    )


class KeyField(serializers.JSONField):
    """A record key: a string, a 64-bit integer or a list of them (a natural key)."""

    def to_internal_value(self, data):
        if not (
            _key_part(data)
            or (isinstance(data, list) and data and all(map(_key_part, data)))
        ):
            raise serializers.ValidationError(
                "Must be a string, a signed 64-bit integer or a list of them."
            )
        return data


class StrictBooleanField(serializers.BooleanField):
    """A JSON true or false, not "yes", "0" or 1."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictCharField(serializers.CharField):
    """A JSON string, not a number turned into one."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class EventSerializer(serializers.Serializer):
    """One change of one record (see _event, which builds it)."""

    id = serializers.RegexField(r"^[A-Za-z0-9_.:-]{1,64}$")
    version = Int64Field(min_value=1)
    type = serializers.ChoiceField(choices=EventType.choices)
    model = serializers.RegexField(MODEL_LABEL_RE.pattern, max_length=255)
    source_model = serializers.RegexField(MODEL_LABEL_RE.pattern, max_length=255)
    key = KeyField()
    # The record's pk on its source; older senders leave it out.
    source_pk = StrictCharField(
        max_length=255, required=False, allow_blank=True, trim_whitespace=False
    )
    data = serializers.DictField(allow_empty=True)
    should_delete = StrictBooleanField()
    platforms = serializers.ListField(
        child=serializers.CharField(max_length=255), required=False, allow_null=True
    )


class EnvelopeSerializer(serializers.Serializer):
    """A batch of events from one source platform (see envelope_build)."""

    source = serializers.CharField(max_length=255)
    events = EventSerializer(many=True, allow_empty=False, max_length=MAX_EVENTS)

    def validate_events(self, events: list[dict]) -> list[dict]:
        """Refuse a batch naming two events by one id: neither may replace the other."""
        first: dict[str, int] = {}
        for index, event in enumerate(events):
            seen = first.setdefault(event["id"], index)
            if seen != index:
                raise serializers.ValidationError(
                    f"events[{index}] has the id {event['id']!r} of events[{seen}]; "
                    "every event of a batch needs an id of its own."
                )
        return events


def _latest_per_record(rows: list[OutboxEvent]) -> list[OutboxEvent]:
    """Keep each record's row of the highest version.

    A record is told by its pk, which a rename leaves alone.
    """
    latest: dict[tuple, OutboxEvent] = {}
    for row in sorted(rows, key=lambda row: row.version):
        # A backup's delete of a record gone at the source has only its key.
        record = row.object_pk or ("key", record_key_digest(row.object_key))
        latest[(row.sync_id, record)] = row
    return sorted(latest.values(), key=lambda row: row.version)


def _records_by_pk(model, pks: list[str]) -> dict[str, object]:
    queryset = digest_queryset(model).filter(pk__in=pks)
    return {str(record.pk): record for record in queryset}


def _record_data(sync: Sync, records: list) -> list[dict]:
    transformer = (
        transformer_for(sync.source_model) if sync.use_transformer_class else None
    )
    if transformer:
        # A transformer may read many-to-many values: one query per field.
        model = apps.get_model(sync.source_model)
        m2m = [f.name for f in model._meta.many_to_many]
        prefetch_related_objects(records, *m2m)
        data = [dict(transformer.transform(record)) for record in records]
        return _files_described(records, data)
    # records_serialize's output, many-to-many values read in bulk per batch.
    data = records_data(records, m2m_sorted=False, pks_run=False)
    return _files_described(records, data)


def _files_described(records: list, data: list[dict]) -> list[dict]:
    """Put each file's name, size and sha256 in its field's place (file sync)."""
    if not sync_settings.FILE_SYNC_ENABLED:
        return data
    return [
        event_data_with_files(record=record, data=fields)
        for record, fields in zip(records, data, strict=True)
    ]


def platforms_sent(sync: Sync) -> bool:
    """Tell whether the sync's events carry their record's platform relations."""
    model = apps.get_model(sync.source_model)
    return sync.use_platform_relations or (
        model._meta.label in sync_settings.SYNC_MODELS_WITH_PLATFORM_RELATIONS
    )


def _sync_events(sync: Sync, rows: list[OutboxEvent], target: Platform) -> list[dict]:
    model = apps.get_model(sync.source_model)
    live = [r.object_pk for r in rows if r.event_type != EventType.DELETED]
    records = _records_by_pk(model, live)
    present = [
        r for r in rows if r.event_type != EventType.DELETED and r.object_pk in records
    ]
    data = dict(
        zip(
            [r.event_id for r in present],
            _record_data(sync, [records[r.object_pk] for r in present]),
            strict=True,
        )
    )
    relations = (
        platform_domains_of(model, live) if platforms_sent(sync) and live else None
    )
    return [
        _event(sync, row, data.get(row.event_id), relations, target) for row in rows
    ]


def _event(sync, row, data, relations, target) -> dict:
    platforms = (relations or {}).get(row.object_pk)
    gone = data is None
    unrelated = sync.use_platform_relations and target.domain not in (platforms or [])
    event = {
        "id": row.event_id,
        "version": row.version,
        "type": EventType.DELETED if gone else row.event_type,
        "model": sync.target_model,
        "source_model": sync.source_model,
        "key": row.object_key,
        "data": data or {},
        "should_delete": gone or unrelated,
    }
    if row.object_pk:
        event["source_pk"] = row.object_pk
    # An empty list is news too: the record no longer belongs to any platform.
    if relations is not None:
        event["platforms"] = platforms or []
    return event


def envelope_build(
    *, source: Platform, target: Platform, rows: list[OutboxEvent]
) -> bytes:
    """Return the JSON body that delivers ``rows`` to ``target``."""
    by_sync: dict[int, list[OutboxEvent]] = defaultdict(list)
    for row in _latest_per_record(rows):
        by_sync[row.sync_id].append(row)
    events = []
    for sync_rows in by_sync.values():
        events += _sync_events(sync_rows[0].sync, sync_rows, target)
    events.sort(key=lambda event: event["version"])
    envelope = {"source": source.domain, "events": events}
    return json.dumps(envelope, cls=DjangoJSONEncoder, separators=(",", ":")).encode()
