"""Root URLs: admin, the REST API and its schema, health, the sync webhook."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from mooxsync.health import health

api_patterns = [
    path("", include("platforms.api.urls")),
    path("", include("syncs.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include(api_patterns)),
    path("health/", health, name="health"),
    path(settings.SYNC_WEBHOOK_URL.lstrip("/"), include("webhooks.urls")),
]

handler404 = "mooxsync.api_errors.not_found"
handler500 = "mooxsync.api_errors.server_error"
