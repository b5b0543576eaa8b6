"""The shop's URLs: the admin, and Moox Sync's API and webhooks at the root."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("webhooks.urls")),
]
