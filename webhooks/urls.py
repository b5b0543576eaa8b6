"""Every URL of Moox Sync, for one ``include()`` at the root of a site's URLconf.

    path("", include("webhooks.urls")),

The API lives under ``/api/`` (platforms, syncs, models, its schema and docs)
and the signed endpoints under ``SYNC_WEBHOOK_URL``: other platforms call
both at these paths, so the include takes no prefix.
"""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from platforms.api.base import SyncAPIMixin
from platforms.conf import sync_settings
from webhooks.digest import DigestView
from webhooks.views import SyncWebhookView

_schema_view_options = {
    "authentication_classes": SyncAPIMixin.authentication_classes,
    "permission_classes": SyncAPIMixin.permission_classes,
}

api_urlpatterns = [
    path("", include("platforms.api.urls")),
    path("", include("syncs.api.urls")),
    path(
        "schema/",
        SpectacularAPIView.as_view(
            urlconf="webhooks.urls",
            custom_settings={
                "TITLE": "Moox Sync for Django API",
                "DESCRIPTION": "Platforms, syncs and the models this platform offers.",
                "VERSION": "1.0.0",
            },
            **_schema_view_options,
        ),
        name="schema",
    ),
    path(
        "docs/",
        SpectacularSwaggerView.as_view(url_name="schema", **_schema_view_options),
        name="docs",
    ),
]

# Under SYNC_WEBHOOK_URL. The sub-paths start with a slash (the webhook's own
# path has none at its end), inside includes, as Django's urls.W002 wants.
webhook_urlpatterns = [
    path("", SyncWebhookView.as_view(), name="sync-webhook"),
    path("/digest/", include([path("", DigestView.as_view(), name="sync-digest")])),
    path("/files/", include("webhooks.files.urls")),
]

urlpatterns = [
    path("api/", include(api_urlpatterns)),
    path(sync_settings.SYNC_WEBHOOK_URL.lstrip("/"), include(webhook_urlpatterns)),
]
