"""SyncWebhook: the signed endpoint that receives changes from other platforms."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.parsers import BaseParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from platforms.models import Platform, domain_validator
from platforms.selectors import platform_current
from platforms.signing import SignatureError, signature_verify
from syncs.delivery import PLATFORM_HEADER
from webhooks.envelope import EnvelopeRefused, EnvelopeSerializer, envelope_parse
from webhooks.inbox import inbox_events_build, inbox_store


def _error(code: str, detail: str, status_code: int) -> Response:
    return Response({"error": code, "detail": detail}, status=status_code)


class RawParser(BaseParser):
    """Leave the body alone: the signature covers its exact bytes."""

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None):
        return None


@extend_schema(exclude=True)  # signed machine endpoint, described in the README
class SyncWebhookView(APIView):
    """Verify, validate and store a batch of events; SyncJob applies them."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    parser_classes = [RawParser]

    def post(self, request):
        if not settings.SYNC_WEBHOOK_ENABLED:
            raise Http404
        declared = request.META.get("CONTENT_LENGTH") or "0"
        limit = settings.SYNC_WEBHOOK_MAX_BODY_BYTES
        # isdigit() alone also passes "²", which int() refuses.
        if not (declared.isascii() and declared.isdigit()) or int(declared) > limit:
            return _error("too_large", f"The body exceeds {limit} bytes.", 413)
        body = request._request.read(limit + 1)
        if len(body) > limit:
            return _error("too_large", f"The body exceeds {limit} bytes.", 413)
        source = _platform_claimed(request.headers.get(PLATFORM_HEADER, ""))
        if source is None or not source.signing_secret:
            return _error("unknown_platform", f"Unknown {PLATFORM_HEADER}.", 401)
        try:
            signature_verify(
                secrets=[source.signing_secret],
                msg_id=request.headers.get("webhook-id", ""),
                timestamp=request.headers.get("webhook-timestamp", ""),
                signature_header=request.headers.get("webhook-signature", ""),
                body=body,
                tolerance=settings.SYNC_WEBHOOK_TOLERANCE_SECONDS,
            )
        except SignatureError as exc:
            return _error(exc.code, exc.detail, 401)
        return self.accept(source, body)

    def accept(self, source: Platform, body: bytes) -> Response:
        """Validate a verified body and store its events."""
        try:
            payload = envelope_parse(body)
        except ValueError as exc:
            return _error("invalid_json", f"The body is not storable JSON: {exc}", 400)
        envelope = EnvelopeSerializer(data=payload)
        if not envelope.is_valid():
            return Response(
                {"error": "invalid", "detail": _describe(envelope.errors)},
                status=status.HTTP_400_BAD_REQUEST,
            )
        if envelope.validated_data["source"].lower() != source.domain:
            return _error("source_mismatch", "source differs from the sender.", 400)
        target = platform_current()
        if target is None:
            return _error("not_installed", "This platform has no Platform row.", 503)
        try:
            rows = inbox_events_build(
                source=source, target=target, events=envelope.validated_data["events"]
            )
        except EnvelopeRefused as exc:
            return _error(exc.code, exc.detail, exc.status)
        accepted, duplicates = inbox_store(source=source, rows=rows)
        return Response(
            {"accepted": accepted, "duplicates": duplicates},
            status=status.HTTP_202_ACCEPTED,
        )


def _platform_claimed(domain: str) -> Platform | None:
    """Return the platform a request names, if the name could be a domain at all."""
    try:
        domain_validator(domain)  # a NUL byte would crash PostgreSQL's lookup
    except ValidationError:
        return None
    return Platform.objects.filter(domain=domain.lower()).first()


def _describe(errors, prefix: str = "") -> str:
    """Name the first thing wrong in a nested serializer error."""
    if isinstance(errors, dict):
        # DRF keys list items by index ("events[1]") and has non-field errors.
        for name, inner in errors.items():
            if isinstance(name, int):
                return _describe(inner, f"{prefix}[{name}]")
            if name == api_settings.NON_FIELD_ERRORS_KEY:
                return _describe(inner, prefix)
            return _describe(inner, f"{prefix}.{name}" if prefix else str(name))
    if isinstance(errors, list):
        for index, inner in enumerate(errors):
            if inner:
                nested = isinstance(inner, dict | list)
                return _describe(inner, f"{prefix}[{index}]" if nested else prefix)
    return f"{prefix}: {errors}" if prefix else str(errors)
