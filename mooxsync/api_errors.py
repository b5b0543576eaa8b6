"""JSON error bodies: ``{"error": <code>, "detail": <text>}`` everywhere in the API."""

from django.http import JsonResponse
from rest_framework import exceptions, status
from rest_framework.views import exception_handler


def _flatten(detail, prefix: str = "") -> list[str]:
    """Turn DRF's nested validation errors into "field: message" lines."""
    if isinstance(detail, dict):
        lines = []
        for key, value in detail.items():
            name = key if key != "non_field_errors" else ""
            lines += _flatten(value, f"{prefix}.{name}" if prefix and name else name)
        return lines
    if isinstance(detail, list):
        return [line for item in detail for line in _flatten(item, prefix)]
    return [f"{prefix}: {detail}" if prefix else str(detail)]


def api_exception_handler(exc, context):
    """Render every API exception as ``{"error", "detail"}`` (plus ``fields``)."""
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {
            "error": "invalid",
            "detail": "; ".join(_flatten(exc.detail)),
            "fields": exc.detail,
        }
    elif isinstance(exc, exceptions.APIException):
        detail = exc.detail
        response.data = {
            "error": getattr(detail, "code", None) or exc.default_code,
            "detail": str(detail),
        }
    else:  # Http404 and PermissionDenied from Django
        code = "not_found" if response.status_code == 404 else "permission_denied"
        response.data = {"error": code, "detail": str(response.data.get("detail"))}
    return response


def not_found(request, exception=None):
    """Answer unknown URLs with JSON under /api/ and the sync webhook."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"error": "not_found", "detail": "No such endpoint."},
            status=status.HTTP_404_NOT_FOUND,
        )
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def server_error(request):
    """Answer server errors with JSON under /api/, never a traceback."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"error": "server_error", "detail": "Internal server error."},
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    from django.views.defaults import server_error as html_server_error

    return html_server_error(request)
