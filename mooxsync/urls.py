"""Root URLs of the standalone project: admin, health, media, and Moox Sync."""

import re

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve

from mooxsync.health import health


def media_serve(request, path):
    """Answer an uploaded file from MEDIA_ROOT (read per request)."""
    return serve(request, path, document_root=settings.MEDIA_ROOT)


urlpatterns = [
    path("admin/", admin.site.urls),
    path("health/", health, name="health"),
    # Uploaded files (platform thumbnails and the like), also without DEBUG: the
    # standalone has no web server in front of it (docker compose runs gunicorn
    # alone), and WhiteNoise serves only the collected static files. Django's
    # view is slow next to a web server and anyone who knows a file's URL may
    # fetch it, as with any public MEDIA_URL; put nginx (or a bucket) in front
    # of a busy platform.
    re_path(rf"^{re.escape(settings.MEDIA_URL.lstrip('/'))}(?P<path>.*)$", media_serve),
    path("", include("webhooks.urls")),
]

handler404 = "mooxsync.api_errors.not_found"
handler500 = "mooxsync.api_errors.server_error"
