"""Views of the platforms API."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import viewsets

from platforms.api.serializers import PlatformSerializer
from platforms.models import Platform


class PlatformViewSet(viewsets.ModelViewSet):
    """List, read, create, change and delete platforms.

    Platform tokens read (without credentials); staff sessions do everything.
    Deleting a platform that syncs still use answers 409.
    """

    queryset = Platform.objects.all()
    serializer_class = PlatformSerializer


class PlatformTokenScheme(OpenApiAuthenticationExtension):
    """Document the platform token as an HTTP bearer scheme in the schema."""

    # Registered on import; the API urls import this module before any schema.
    target_class = "platforms.authentication.PlatformTokenAuthentication"
    name = "platformToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "The api_token of a known platform (read only).",
        }
