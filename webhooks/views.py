"""SyncWebhook: the signed endpoint that receives changes from other platforms."""

from django.db import IntegrityError
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from platforms.models import Platform
from platforms.selectors import platform_current
from webhooks.apply import platforms_apply
from webhooks.envelope import (
    EnvelopeRefused,
    EnvelopeSerializer,
    PlatformPushSerializer,
    envelope_is_platform_push,
    envelope_parse,
)
from webhooks.inbox import inbox_events_build, inbox_store
from webhooks.senders import Sender
from webhooks.verify import RawParser as RawParser  # moved, re-exported
from webhooks.verify import RequestRefused, SignedEndpointMixin, signed_request_read


def _error(code: str, detail: str, status_code: int) -> Response:
    return Response({"error": code, "detail": detail}, status=status_code)


def _invalid(serializer) -> Response:
    return _error("invalid", _describe(serializer.errors), 400)


@extend_schema(exclude=True)  # signed machine endpoint, described in the README
class SyncWebhookView(SignedEndpointMixin, APIView):
    """Verify, validate and store a batch of events; SyncJob applies them.

    The master's push of the platform list comes here too and is applied at
    once: it is small, and the master reports what each platform made of it.
    """

    def post(self, request):
        try:
            sender, body = signed_request_read(request)
        except RequestRefused as exc:
            return _error(exc.code, exc.detail, exc.status)
        try:
            payload = envelope_parse(body)
        except ValueError as exc:
            return _error("invalid_json", f"The body is not storable JSON: {exc}", 400)
        if envelope_is_platform_push(payload):
            return self.accept_platforms(sender, payload)
        if sender.bootstrap or sender.platform is None:
            return _error(
                "bootstrap_platforms_only",
                "The cluster's bootstrap secret signs only the master's first push "
                "of the platform list.",
                403,
            )
        return self.accept(sender.platform, payload)

    def accept(self, source: Platform, payload) -> Response:
        """Validate a verified envelope of events and store them."""
        envelope = EnvelopeSerializer(data=payload)
        if not envelope.is_valid():
            return _invalid(envelope)
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

    def accept_platforms(self, sender: Sender, payload) -> Response:
        """Apply a verified push of the platform list from the master."""
        if not sender.bootstrap and not sender.platform.master:
            return _error(
                "not_master",
                f"{sender.domain} is not the master here; only the master pushes "
                "platform rows.",
                403,
            )
        push = PlatformPushSerializer(data=payload)
        if not push.is_valid():
            return _invalid(push)
        if push.validated_data["source"].lower() != sender.domain:
            return _error("source_mismatch", "source differs from the sender.", 400)
        try:
            report = platforms_apply(
                rows=push.validated_data["platforms"],
                syncs=push.validated_data.get("syncs"),
            )
        except IntegrityError as exc:
            return _error("conflict", f"The list clashes with a kept row: {exc}", 409)
        return Response(report.as_dict(), status=status.HTTP_200_OK)


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
