"""What every Moox Sync API view uses, whatever the site's REST_FRAMEWORK says.

A site keeps its own DRF defaults (authentication, permissions, pagination,
exception handler, schema class) for its own API; the sync API and the signed
endpoints set theirs here.
"""

from drf_spectacular.openapi import AutoSchema
from rest_framework.authentication import SessionAuthentication
from rest_framework.pagination import PageNumberPagination
from rest_framework.settings import api_settings

from platforms.api.errors import api_exception_handler
from platforms.authentication import PlatformTokenAuthentication
from platforms.permissions import IsPlatformOrAdmin


class SyncPagination(PageNumberPagination):
    """Pages of the site's REST_FRAMEWORK["PAGE_SIZE"], else of 50."""

    page_size = api_settings.PAGE_SIZE or 50


class SyncErrorsMixin:
    """Render every error as ``{"error", "detail"}`` (platforms.api.errors)."""

    schema = AutoSchema()

    def get_exception_handler(self):
        return api_exception_handler


class SyncAPIMixin(SyncErrorsMixin):
    """Platform tokens read, staff sessions write; JSON errors; paginated lists."""

    authentication_classes = [PlatformTokenAuthentication, SessionAuthentication]
    permission_classes = [IsPlatformOrAdmin]
    pagination_class = SyncPagination
