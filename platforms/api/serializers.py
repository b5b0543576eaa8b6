"""Serializers of the platforms API."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from platforms.keys import platform_key_first
from platforms.models import Platform, domain_validator
from platforms.permissions import is_admin
from platforms.services import platform_credentials_fill

CREDENTIAL_FIELDS = ("api_token", "signing_secret")


class PlatformSerializer(serializers.ModelSerializer):
    """A platform; its credentials only for staff, never for platform tokens."""

    has_token = serializers.BooleanField(read_only=True)

    class Meta:
        model = Platform
        fields = [
            "id",
            "uuid",
            "name",
            "domain",
            "scheme",
            "ip_address",
            "thumbnail",
            "master",
            "locked",
            "lock_reason",
            "show_in_menu",
            "order",
            "created_at",
            "updated_at",
            "has_token",
            *CREDENTIAL_FIELDS,
        ]
        read_only_fields = ["uuid", "created_at", "updated_at"]
        extra_kwargs = {
            # Uniqueness is checked on the lowercased domain in validate_domain.
            "domain": {"validators": [domain_validator]},
            # The single-master rule is checked in validate_master.
            "master": {"validators": []},
            "thumbnail": {
                "allow_null": True,
                "help_text": _("Image upload (multipart); read as a URL."),
            },
            "api_token": {"help_text": _("Staff only. Generated when omitted.")},
            "signing_secret": {"help_text": _("Staff only. Generated when omitted.")},
        }

    def get_fields(self):
        fields = super().get_fields()
        if not self._shows_credentials():
            for name in CREDENTIAL_FIELDS:
                fields.pop(name)
        return fields

    def _shows_credentials(self) -> bool:
        # The schema documents what staff see.
        if getattr(self.context.get("view"), "swagger_fake_view", False):
            return True
        request = self.context.get("request")
        return request is not None and is_admin(request)

    def _others(self):
        return Platform.objects.exclude(pk=getattr(self.instance, "pk", None))

    def validate_domain(self, value: str) -> str:
        """Lowercase the domain, as the model stores it, and refuse a taken one."""
        value = value.lower()
        if self._others().filter(domain=value).exists():
            raise serializers.ValidationError(
                _("Another platform already has this domain.")
            )
        return value

    def validate_master(self, value: bool) -> bool:
        """Refuse a second master."""
        if value and self._others().filter(master=True).exists():
            raise serializers.ValidationError(
                _("Another platform is already the master.")
            )
        return value

    def create(self, validated_data: dict) -> Platform:
        platform = Platform(**validated_data)
        platform_credentials_fill(platform=platform)
        platform.save()
        platform_key_first(platform=platform)
        return platform


class PlatformRefSerializer(serializers.ModelSerializer):
    """Enough of a platform to find it on another platform, where ids differ."""

    class Meta:
        model = Platform
        fields = ["id", "uuid", "name", "domain"]
        read_only_fields = fields


class PlatformFilterSerializer(serializers.Serializer):
    """The query parameters that narrow the list of platforms.

    A platform finds its own row on the master by them: ids differ per
    platform, uuids and domains do not.
    """

    uuid = serializers.UUIDField(required=False, help_text="Exactly this uuid.")
    domain = serializers.CharField(
        required=False, max_length=255, help_text="Exactly this domain."
    )

    def validate_domain(self, value: str) -> str:
        return value.lower()
