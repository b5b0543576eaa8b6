"""The webhook envelope: its shape (a serializer) and what it may touch."""

import json

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from rest_framework import serializers

from syncs.models import MODEL_LABEL_RE, EventType, Sync

MAX_EVENTS = 5000
# Deep enough for any record's data; shallow enough to stay far from recursion
# limits wherever the data is encoded again.
MAX_DEPTH = 32


def _not_json(constant: str):
    raise ValueError(f"{constant} is not a JSON value")


def envelope_parse(body: bytes):
    """Return the parsed body; raise ValueError for what no database could store."""
    try:
        payload = json.loads(body, parse_constant=_not_json)
    except RecursionError:
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels") from None
    stack = [(payload, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(value, dict):
            stack += [(item, depth + 1) for pair in value.items() for item in pair]
        elif isinstance(value, list):
            stack += [(item, depth + 1) for item in value]
        elif isinstance(value, str):
            _text_check(value)
    return payload


def _text_check(text: str) -> None:
    # PostgreSQL stores neither; SQLite's driver cannot encode surrogates.
    if "\x00" in text:
        raise ValueError("text holds a NUL character")
    try:
        text.encode()
    except UnicodeEncodeError:
        raise ValueError("text holds an unpaired surrogate") from None


class EnvelopeRefused(Exception):
    """An envelope names a model or field it may not write."""

    def __init__(self, code: str, detail: str, status: int) -> None:
        super().__init__(detail)
        self.code, self.detail, self.status = code, detail, status


class KeyField(serializers.JSONField):
    """A record key: a string, an integer or a list of them (a natural key)."""

    def to_internal_value(self, data):
        scalar = (str, int)
        if isinstance(data, bool) or not (
            isinstance(data, scalar)
            or (
                isinstance(data, list)
                and data
                and all(isinstance(p, scalar) and not isinstance(p, bool) for p in data)
            )
        ):
            raise serializers.ValidationError("Must be a string, integer or list.")
        return data


class StrictBooleanField(serializers.BooleanField):
    """A JSON true or false, not "yes", "0" or 1."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class EventSerializer(serializers.Serializer):
    id = serializers.RegexField(r"^[A-Za-z0-9_.:-]{1,64}$")
    version = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    type = serializers.ChoiceField(choices=EventType.choices)
    model = serializers.RegexField(MODEL_LABEL_RE.pattern, max_length=255)
    source_model = serializers.RegexField(MODEL_LABEL_RE.pattern, max_length=255)
    key = KeyField()
    data = serializers.DictField(allow_empty=True)
    should_delete = StrictBooleanField()
    platforms = serializers.ListField(
        child=serializers.CharField(max_length=255), required=False, allow_null=True
    )


class EnvelopeSerializer(serializers.Serializer):
    source = serializers.CharField(max_length=255)
    events = EventSerializer(many=True, allow_empty=False, max_length=MAX_EVENTS)


def envelope_sync_for(event: dict, *, source, target, syncs: dict) -> Sync:
    """Return the active sync that allows ``event`` from ``source``, or refuse it."""
    key = (event["source_model"].lower(), event["model"].lower())
    if key not in syncs:
        syncs[key] = (
            Sync.objects.filter(
                status=True,
                source_platform=source,
                target_platform=target,
                source_model__iexact=event["source_model"],
                target_model__iexact=event["model"],
            )
            .order_by("pk")
            .first()
        )
    if syncs[key] is None:
        raise EnvelopeRefused(
            "model_not_allowed",
            f"No active sync from {source.domain} ({event['source_model']}) to this "
            f"platform ({event['model']}).",
            403,
        )
    return syncs[key]


def fields_mapped(sync: Sync, data: dict) -> dict:
    """Rename the fields of ``data`` by the sync's field mappings."""
    mappings = sync.field_mappings or {}
    kept = {}
    if sync.sync_all_fields:
        kept = {name: value for name, value in data.items() if name not in mappings}
    # A mapped field wins over a sent field of the same name, whatever the order.
    return kept | {mappings[name]: v for name, v in data.items() if name in mappings}


def fields_check(sync: Sync, data: dict) -> None:
    """Refuse field names that are not fields of the sync's target model."""
    try:
        model = apps.get_model(sync.target_model)
    except (LookupError, ValueError):
        raise EnvelopeRefused(
            "model_not_allowed",
            f"{sync.target_model} is not a model installed on this platform.",
            403,
        ) from None
    for name in data:
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            field = None
        if field is None or not field.concrete or field.primary_key:
            raise EnvelopeRefused(
                "unknown_field",
                f"{sync.target_model} has no writable field {name[:100]!r}.",
                400,
            )
