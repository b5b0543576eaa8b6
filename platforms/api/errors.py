"""JSON error bodies: ``{"error": <code>, "detail": <text>}`` everywhere in the API."""

import logging
import traceback
from collections import Counter

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.signals import got_request_exception
from django.db import IntegrityError, models
from django.db.models import ProtectedError, RestrictedError
from django.http import JsonResponse
from django.utils.log import log_response
from rest_framework import exceptions, status
from rest_framework.fields import get_error_detail
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler, set_rollback

logger = logging.getLogger(__name__)


def error_lines(detail, path: str = "") -> list[str]:
    """Turn DRF's nested validation errors into "path: message" lines, in order.

    A path names fields by dots and list items by index (``events[1].version``).
    """
    if isinstance(detail, dict):
        return [
            line
            for key, inner in detail.items()
            for line in error_lines(inner, _error_path(path, key))
        ]
    if isinstance(detail, list):
        # A list of messages, or of nested errors ({} for a valid item).
        return [
            line
            for index, inner in enumerate(detail)
            for line in error_lines(
                inner, f"{path}[{index}]" if isinstance(inner, dict | list) else path
            )
        ]
    return [f"{path}: {detail}" if path else str(detail)]


def _error_path(path: str, key) -> str:
    if isinstance(key, int):  # an item of a ListField
        return f"{path}[{key}]"
    if key == api_settings.NON_FIELD_ERRORS_KEY:
        return path
    return f"{path}.{key}" if path else key


def _fields(detail) -> dict:
    """Return validation errors keyed by field, errors without one under the key."""
    if isinstance(detail, dict):
        return detail
    return {api_settings.NON_FIELD_ERRORS_KEY: detail}


def model_full_clean(instance: models.Model) -> None:
    """Run the model's full validation; raise DRF's ValidationError per field."""
    try:
        instance.full_clean()
    except DjangoValidationError as exc:
        detail = get_error_detail(exc)
        if isinstance(detail, dict) and NON_FIELD_ERRORS in detail:
            detail[api_settings.NON_FIELD_ERRORS_KEY] = detail.pop(NON_FIELD_ERRORS)
        raise exceptions.ValidationError(detail) from exc


def _protected_detail(exc: ProtectedError | RestrictedError) -> str:
    """Say which records still refer to the one that was to be deleted."""
    counts = Counter(obj._meta for obj in exc.args[1])
    users = ", ".join(
        f"{count} {opts.verbose_name if count == 1 else opts.verbose_name_plural}"
        for opts, count in sorted(counts.items(), key=lambda item: item[0].label)
    )
    return f"Cannot delete: still used by {users}. Change or delete those first."


def _database_refusal(exc: Exception) -> Response | None:
    """Answer a refusal by the database with 409 instead of a server error."""
    if isinstance(exc, ProtectedError | RestrictedError):
        body = {"error": "protected", "detail": _protected_detail(exc)}
    elif isinstance(exc, IntegrityError):
        # Validation runs first; this is a race with a concurrent write.
        logger.warning("API write refused by the database: %s", exc)
        body = {
            "error": "conflict",
            "detail": "The change conflicts with data written meanwhile; retry.",
        }
    else:
        return None
    set_rollback()
    return Response(body, status=status.HTTP_409_CONFLICT)


def endpoint_not_found(request, *args, **kwargs):
    """Answer a URL under the sync API or a signed endpoint that names nothing.

    A view, not the site's handler404: with DEBUG Django would answer its HTML
    page, and a site's handler404 is the site's.
    """
    return JsonResponse(
        {"error": "not_found", "detail": "No such endpoint."},
        status=status.HTTP_404_NOT_FOUND,
    )


def _debug_server_error(exc: Exception, context: dict) -> Response | None:
    """Answer a bug with JSON where DEBUG would answer its HTML traceback page.

    Without DEBUG the site's handler500 answers (the standalone's in JSON).
    """
    request = getattr(context.get("request"), "_request", None)
    if not settings.DEBUG or request is None:
        return None
    # What Django does for an uncaught exception: tell the listeners (the test
    # client, error trackers), log it, roll the request's transaction back.
    got_request_exception.send(sender=None, request=request)
    response = Response(
        {
            "error": "server_error",
            "detail": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exception(exc),
        },
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )
    log_response(
        "%s: %s",
        "Internal Server Error",
        request.path,
        response=response,
        request=request,
        exception=exc,
    )
    set_rollback()
    return response


def api_exception_handler(exc, context):
    """Render every API exception as ``{"error", "detail"}`` (plus ``fields``)."""
    response = exception_handler(exc, context)
    if response is None:
        return _database_refusal(exc) or _debug_server_error(exc, context)
    if isinstance(exc, exceptions.ValidationError):
        response.data = {
            "error": "invalid",
            "detail": "; ".join(error_lines(exc.detail)),
            "fields": _fields(exc.detail),
        }
    elif isinstance(exc, exceptions.APIException):
        detail = exc.detail
        response.data = {
            "error": getattr(detail, "code", None) or exc.default_code,
            "detail": str(detail),
        } | getattr(exc, "extra", {})  # a signed endpoint's refusal tells more
    else:  # Http404 and PermissionDenied from Django
        code = "not_found" if response.status_code == 404 else "permission_denied"
        response.data = {"error": code, "detail": str(response.data.get("detail"))}
    return response
