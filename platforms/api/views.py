"""Views of the platforms API."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import extend_schema, extend_schema_view
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework import viewsets

from platforms.api.base import SyncAPIMixin
from platforms.api.integers import ID_PATH_SCHEMA
from platforms.api.serializers import PlatformFilterSerializer, PlatformSerializer
from platforms.models import Platform


@extend_schema_view(list=extend_schema(parameters=[PlatformFilterSerializer]))
class PlatformViewSet(SyncAPIMixin, viewsets.ModelViewSet):
    """List, read, create, change and delete platforms.

    The list narrows by ``?uuid=<uuid>`` and ``?domain=<host[:port]>``.
    Platform tokens read (without credentials); staff sessions do everything.
    Deleting a platform that syncs still use answers 409.
    """

    queryset = Platform.objects.all()
    serializer_class = PlatformSerializer
    lookup_value_converter = "id"

    def get_queryset(self):
        if self.action != "list":
            return self.queryset
        filters = PlatformFilterSerializer(data=self.request.query_params.dict())
        filters.is_valid(raise_exception=True)
        return self.queryset.filter(**filters.validated_data)


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


class SyncSchemaView(SyncAPIMixin, SpectacularAPIView):
    """The OpenAPI schema of Moox Sync's API alone, whatever else the site serves."""

    urlconf = "webhooks.urls"
    schema = None  # not in the schema it serves (nor is SyncDocsView)
    custom_settings = {
        "TITLE": "Moox Sync for Django API",
        "DESCRIPTION": "Platforms, syncs and the models this platform offers.",
        "VERSION": "1.0.0",
        "PATH_CONVERTER_OVERRIDES": {"id": ID_PATH_SCHEMA},
    }


class SyncDocsView(SyncAPIMixin, SpectacularSwaggerView):
    """Swagger UI over SyncSchemaView's schema."""

    url_name = "schema"
    schema = None
    title = SyncSchemaView.custom_settings["TITLE"]
