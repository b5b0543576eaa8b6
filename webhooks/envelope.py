"""The webhook envelope: its shape (a serializer) and what it may touch."""

import json
from collections import Counter

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from rest_framework import serializers

from platforms.models import Platform, domain_validator, secret_validator
from syncs.mapping import fields_mapped as fields_mapped  # moved, re-exported
from syncs.models import MODEL_LABEL_RE, EventType, Sync

MAX_EVENTS = 5000
PLATFORM_LABEL = "platforms.platform"
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
    if event["model"].lower() == PLATFORM_LABEL:
        # Whoever holds a platform row's secret can sign as that platform: rows
        # change only through the master's push, never through a sync.
        raise EnvelopeRefused(
            "model_not_allowed",
            "Platform rows are written only by the master's push of the platform "
            "list, not by sync events.",
            403,
        )
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


class PlatformRowSerializer(serializers.Serializer):
    """One platform of the master's push (platforms.roster.ROSTER_FIELDS)."""

    uuid = serializers.UUIDField()
    name = serializers.CharField(max_length=255)
    domain = serializers.CharField(max_length=255, validators=[domain_validator])
    scheme = serializers.ChoiceField(choices=Platform.Scheme.choices)
    ip_address = serializers.IPAddressField(allow_null=True)
    master = StrictBooleanField()
    locked = StrictBooleanField()
    lock_reason = serializers.CharField(max_length=255, allow_blank=True)
    show_in_menu = StrictBooleanField()
    order = serializers.IntegerField(min_value=0, max_value=2**31 - 1)
    api_token = serializers.CharField(max_length=80, allow_null=True, allow_blank=True)
    signing_secret = serializers.CharField(
        max_length=100, allow_blank=True, validators=[secret_validator]
    )

    def validate_domain(self, value: str) -> str:
        return value.lower()  # as Platform.save stores it

    def validate_api_token(self, value: str | None) -> str | None:
        return value or None  # as Platform.save stores it


def _repeated(rows: list[dict], name: str) -> str | None:
    counts = Counter(row[name] for row in rows if row[name] is not None)
    repeated = sorted(str(value) for value, count in counts.items() if count > 1)
    return f"{name} {repeated[0]!r}" if repeated else None


class PlatformPushSerializer(serializers.Serializer):
    """The master's push: the complete list of platforms, the master among them."""

    source = serializers.CharField(max_length=255)
    platforms = PlatformRowSerializer(
        many=True, allow_empty=False, max_length=MAX_EVENTS
    )

    def validate_platforms(self, rows: list[dict]) -> list[dict]:
        for name in ("uuid", "name", "domain", "api_token"):
            if repeated := _repeated(rows, name):
                raise serializers.ValidationError(f"Two platforms share {repeated}.")
        return rows

    def validate(self, attrs: dict) -> dict:
        masters = [row["domain"] for row in attrs["platforms"] if row["master"]]
        if masters != [attrs["source"].lower()]:
            raise serializers.ValidationError(
                "The list must name its sender, and only its sender, as the master."
            )
        return attrs


def envelope_is_platform_push(payload) -> bool:
    """Tell whether a parsed body is the master's push of the platform list."""
    return isinstance(payload, dict) and "platforms" in payload
