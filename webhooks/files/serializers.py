"""The bodies of the file endpoints."""

import base64
import binascii

from django.core.exceptions import SuspiciousFileOperation
from django.core.files.utils import validate_file_name
from rest_framework import serializers

from platforms.api.integers import Int64Field
from syncs.files.policy import SHA256_RE
from syncs.models import MODEL_LABEL_RE
from syncs.payload import KeyField

MAX_NAME_LENGTH = 1000


class FileRequestSerializer(serializers.Serializer):
    """Which file of which record: what check and finalize carry."""

    model = serializers.RegexField(MODEL_LABEL_RE.pattern, max_length=255)
    source_model = serializers.RegexField(MODEL_LABEL_RE.pattern, max_length=255)
    key = KeyField()
    field = serializers.RegexField(r"^[A-Za-z_][A-Za-z0-9_]{0,254}$")
    name = serializers.CharField(max_length=MAX_NAME_LENGTH, trim_whitespace=False)
    size = Int64Field(min_value=0)
    sha256 = serializers.RegexField(SHA256_RE.pattern)

    def validate_name(self, value: str) -> str:
        try:
            return validate_file_name(value, allow_relative_path=True)
        except SuspiciousFileOperation as exc:
            raise serializers.ValidationError(str(exc)) from None


class FileChunkSerializer(FileRequestSerializer):
    """A run of the file's bytes, base64-encoded, and where they start."""

    offset = Int64Field(min_value=0)
    data = serializers.CharField(trim_whitespace=False)

    def validate_data(self, value: str) -> bytes:
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise serializers.ValidationError("Not valid base64.") from None
