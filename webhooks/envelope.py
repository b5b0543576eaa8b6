"""What a received envelope may touch, and the shape of the master's push.

The envelope's own shape is syncs.payload.EnvelopeSerializer, which the
sending side builds to.
"""

from collections import Counter

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import connections, router
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.models.functions import Lower
from rest_framework import serializers

from platforms.models import Platform, domain_validator, secret_validator
from platforms.signing import private_key_valid, public_key_of, public_key_valid
from syncs.api.serializers import SyncListedSerializer
from syncs.models import Sync
from syncs.payload import MAX_EVENTS, StrictBooleanField
from webhooks.signed import SignedRequestRefused

# Written only by the master's push of the platform list.
PLATFORM_LABELS = ("platforms.platform", "platforms.platformkey")


def envelope_sync_for(event: dict, *, source, target, syncs: dict) -> Sync:
    """Return the active sync that allows ``event`` from ``source``, or refuse it."""
    if event["model"].lower() in PLATFORM_LABELS:
        # Platform rows and their keys decide who may sign as whom: they
        # change only through the master's push, never through a sync.
        raise SignedRequestRefused(
            "model_not_allowed",
            "Platform rows are written only by the master's push of the platform "
            "list, not by sync events.",
            403,
        )
    key = (event["source_model"].lower(), event["model"].lower())
    if key not in syncs:
        syncs[key] = (
            # Lower() rather than iexact: MySQL's iexact is its LIKE, as
            # case-sensitive as the column's collation (utf8mb4_bin, say).
            Sync.objects.alias(
                source_label=Lower("source_model"), target_label=Lower("target_model")
            )
            .filter(
                status=True,
                source_platform=source,
                target_platform=target,
                source_label=key[0],
                target_label=key[1],
            )
            .order_by("pk")
            .first()
        )
    if syncs[key] is None:
        raise SignedRequestRefused(
            "model_not_allowed",
            f"No active sync from {source.domain} ({event['source_model']}) to this "
            f"platform ({event['model']}).",
            403,
        )
    return syncs[key]


def target_model_of(sync: Sync):
    """Return the sync's target model, or refuse a model not installed here."""
    try:
        return apps.get_model(sync.target_model)
    except (LookupError, ValueError):
        raise SignedRequestRefused(
            "model_not_allowed",
            f"{sync.target_model} is not a model installed on this platform.",
            403,
        ) from None


def fields_check(sync: Sync, data: dict) -> None:
    """Refuse field names that are not fields of the sync's target model."""
    model = target_model_of(sync)
    for name in data:
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            field = None
        if field is None or not field.concrete or field.primary_key:
            raise SignedRequestRefused(
                "unknown_field",
                f"{sync.target_model} has no writable field {name[:100]!r}.",
                400,
            )
        _integer_check(model, field, data[name])


def _integer_check(model, field, value) -> None:
    """Refuse an integer that the field's column cannot hold on this database."""
    column = field.target_field if field.many_to_one else field
    kind = column.get_internal_type()
    if isinstance(value, bool) or not isinstance(value, int):
        return
    if kind not in BaseDatabaseOperations.integer_field_ranges:
        return
    low, high = connections[router.db_for_write(model)].ops.integer_field_range(kind)
    if not low <= value <= high:
        raise SignedRequestRefused(
            "out_of_range",
            f"{model._meta.label}.{field.name} holds integers from {low} to {high}, "
            f"not {str(value)[:40]}.",
            400,
        )


class PlatformKeySerializer(serializers.Serializer):
    """One public key of a platform in the master's push (its private half only
    in the receiver's own row)."""

    public_key = serializers.CharField(max_length=60)
    private_key = serializers.CharField(max_length=60, required=False)
    created_at = serializers.DateTimeField()
    retires_at = serializers.DateTimeField(allow_null=True)

    def validate_public_key(self, value: str) -> str:
        if not public_key_valid(value):
            raise serializers.ValidationError("Not a whpk_ Ed25519 public key.")
        return value

    def validate(self, attrs: dict) -> dict:
        private_key = attrs.get("private_key")
        if private_key is not None and not (
            private_key_valid(private_key)
            and public_key_of(private_key) == attrs["public_key"]
        ):
            raise serializers.ValidationError(
                {"private_key": "Not the whsk_ private key of this public key."}
            )
        return attrs


class PlatformRowSerializer(serializers.Serializer):
    """One platform of the master's push (platforms.push.PUSH_FIELDS, keys)."""

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
    # Absent from a master of the shared-secret scheme: keys are left alone.
    keys = PlatformKeySerializer(many=True, required=False, max_length=20)

    def validate_domain(self, value: str) -> str:
        return value.lower()  # as Platform.save stores it

    def validate_api_token(self, value: str | None) -> str | None:
        return value or None  # as Platform.save stores it


def _repeated(rows: list[dict], name: str) -> str | None:
    counts = Counter(row[name] for row in rows if row[name] is not None)
    repeated = sorted(str(value) for value, count in counts.items() if count > 1)
    return f"{name} {repeated[0]!r}" if repeated else None


class PlatformPushSerializer(serializers.Serializer):
    """The master's push: the complete list of platforms, the master among them,
    and the receiver's syncs."""

    source = serializers.CharField(max_length=255)
    platforms = PlatformRowSerializer(
        many=True, allow_empty=False, max_length=MAX_EVENTS
    )
    # Absent from a master that pushes no syncs: the syncs are left alone.
    syncs = SyncListedSerializer(many=True, required=False, max_length=MAX_EVENTS)

    def validate_platforms(self, rows: list[dict]) -> list[dict]:
        for name in ("uuid", "name", "domain", "api_token"):
            if repeated := _repeated(rows, name):
                raise serializers.ValidationError(f"Two platforms share {repeated}.")
        keys = [
            {"public_key": k["public_key"]} for r in rows for k in r.get("keys", [])
        ]
        if repeated := _repeated(keys, "public_key"):
            raise serializers.ValidationError(f"Two keys share {repeated}.")
        return rows

    def validate_syncs(self, syncs: list[dict]) -> list[dict]:
        if repeated := _repeated(syncs, "uuid"):
            raise serializers.ValidationError(f"Two syncs share {repeated}.")
        return syncs

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
