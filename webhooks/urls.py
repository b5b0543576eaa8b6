"""Every URL of Moox Sync, for one ``include()`` at the root of a site's URLconf.

    path("", include("webhooks.urls")),

The API lives under ``/api/`` (platforms, syncs, models, its schema and docs)
and the signed endpoints under ``SYNC_WEBHOOK_URL``: other platforms call
both at these paths, so the include takes no prefix.
"""

from django.urls import include, path, re_path

from platforms.api.errors import endpoint_not_found
from platforms.api.views import SyncDocsView, SyncSchemaView
from platforms.conf import sync_settings
from webhooks.digest import DigestView
from webhooks.views import SyncWebhookView

api_urlpatterns = [
    path("", include("platforms.api.urls")),
    path("", include("syncs.api.urls")),
    path("schema/", SyncSchemaView.as_view(), name="schema"),
    path("docs/", SyncDocsView.as_view(), name="docs"),
    # Below the API's own prefixes a URL that names nothing answers JSON, with
    # DEBUG too; the rest of /api/ stays free for the site's own URLs. Only
    # paths that end in a slash: APPEND_SLASH still redirects the others.
    re_path(r"^(?:platforms|syncs|models|schema|docs)/(?:.*/)?$", endpoint_not_found),
]

# Under SYNC_WEBHOOK_URL. The sub-paths start with a slash (the webhook's own
# path has none at its end), inside includes, as Django's urls.W002 wants.
webhook_urlpatterns = [
    path("", SyncWebhookView.as_view(), name="sync-webhook"),
    path("/digest/", include([path("", DigestView.as_view(), name="sync-digest")])),
    path("/files/", include("webhooks.files.urls")),
    re_path(r"^/", endpoint_not_found),
]

urlpatterns = [
    path("api/", include(api_urlpatterns)),
    path(sync_settings.SYNC_WEBHOOK_URL.lstrip("/"), include(webhook_urlpatterns)),
]
