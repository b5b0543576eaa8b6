"""Serializers of the syncs and models APIs."""

import copy

from rest_framework import serializers

from platforms.api.errors import model_full_clean
from platforms.api.integers import IdField
from platforms.api.serializers import PlatformRefSerializer
from syncs.models import Sync
from syncs.pull import PULLED_FIELDS, SYNC_OPTIONS


class SyncSerializer(serializers.ModelSerializer):
    """A sync, validated by the model's own rules (fields, clean, constraints)."""

    source_platform_ref = PlatformRefSerializer(
        source="source_platform", read_only=True
    )
    target_platform_ref = PlatformRefSerializer(
        source="target_platform", read_only=True
    )

    class Meta:
        model = Sync
        fields = [
            "id",
            "uuid",
            "status",
            "title",
            "source_platform",
            "source_platform_ref",
            "source_model",
            "target_platform",
            "target_platform_ref",
            "target_model",
            *SYNC_OPTIONS,
            "has_errors",
            "error_message",
            "last_sync",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["uuid", "created_at", "updated_at"]

    def validate(self, attrs: dict) -> dict:
        """Check the sync as it would be saved, so the database never refuses it."""
        sync = copy.copy(self.instance) if self.instance else Sync()
        for name, value in attrs.items():
            setattr(sync, name, value)
        model_full_clean(sync)
        return attrs


class PlatformMentionSerializer(serializers.Serializer):
    """A platform as a listed sync names it, for a platform whose ids differ."""

    uuid = serializers.UUIDField()
    domain = serializers.CharField(max_length=255)


class SyncListedSerializer(serializers.ModelSerializer):
    """A sync as SyncSerializer lists it, read back on one of its platforms.

    Only what the master decides (syncs.pull.PULLED_FIELDS), with the
    platforms by uuid and domain; the rest of the listing is ignored.
    """

    # An upsert key here, not a new row's: no uniqueness check.
    uuid = serializers.UUIDField()
    source_platform_ref = PlatformMentionSerializer()
    target_platform_ref = PlatformMentionSerializer()

    class Meta:
        model = Sync
        fields = ["uuid", *PULLED_FIELDS, "source_platform_ref", "target_platform_ref"]
        extra_kwargs = {name: {"required": True} for name in PULLED_FIELDS}


class SyncFilterSerializer(serializers.Serializer):
    """The query parameters that narrow the list of syncs."""

    source_platform = IdField(
        allow_null=True, default=None, help_text="Source platform id."
    )
    target_platform = IdField(
        allow_null=True, default=None, help_text="Target platform id."
    )
    status = serializers.BooleanField(
        allow_null=True, default=None, help_text="true: active only; false: inactive."
    )


class PlatformSyncFilterSerializer(serializers.Serializer):
    """The query parameters of the syncs-for-platform list."""

    role = serializers.ChoiceField(
        choices=["source", "target", "any"],
        default="source",
        help_text="The platform's side of the syncs: source (the default), target, "
        "or any of the two.",
    )


class ModelFieldSerializer(serializers.Serializer):
    """A field of a model offered for syncing."""

    name = serializers.CharField()
    type = serializers.CharField(help_text="Django's get_internal_type().")
    unique = serializers.BooleanField()
    null = serializers.BooleanField()
    related_model = serializers.CharField(
        allow_null=True, help_text="app_label.ModelName of a relation's model."
    )


class SyncableModelSerializer(serializers.Serializer):
    """A model offered for syncing and how its records are matched."""

    label = serializers.CharField(help_text="app_label.ModelName")
    verbose_name = serializers.CharField()
    fields = ModelFieldSerializer(many=True)
    natural_key = serializers.BooleanField(
        help_text="The model has natural_key() and get_by_natural_key()."
    )
    identifier = serializers.CharField(
        allow_null=True,
        help_text='"natural_key", a unique field name, or null when records '
        "cannot be matched across platforms.",
    )
