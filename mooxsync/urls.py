"""Root URLs of the standalone project: admin, health, media, and Moox Sync."""

from django.contrib import admin
from django.urls import include, path

from mooxsync.health import health

urlpatterns = [
    path("admin/", admin.site.urls),
    path("health/", health, name="health"),
    path("", include("webhooks.urls")),
]

handler404 = "mooxsync.api_errors.not_found"
handler500 = "mooxsync.api_errors.server_error"
