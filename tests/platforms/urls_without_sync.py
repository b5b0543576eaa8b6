"""A site's URLconf that forgot Moox Sync's include (for the system checks)."""

from django.contrib import admin
from django.urls import path

urlpatterns = [path("admin/", admin.site.urls)]
