"""The project's 404 and 500 pages: JSON under /api/ and the sync webhook."""

from django.http import JsonResponse
from rest_framework import status

from platforms.conf import sync_settings


def _answers_json(request) -> bool:
    """Tell whether the request's path belongs to the API or the sync webhook."""
    return request.path.startswith(("/api/", sync_settings.SYNC_WEBHOOK_URL))


def not_found(request, exception=None):
    """Answer unknown URLs with JSON under /api/ and the sync webhook."""
    if _answers_json(request):
        return JsonResponse(
            {"error": "not_found", "detail": "No such endpoint."},
            status=status.HTTP_404_NOT_FOUND,
        )
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def server_error(request):
    """Answer server errors with JSON under /api/ and the webhook, never a page."""
    if _answers_json(request):
        return JsonResponse(
            {"error": "server_error", "detail": "Internal server error."},
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    from django.views.defaults import server_error as html_server_error

    return html_server_error(request)
