"""SyncWebhook: the signed endpoint that receives changes from other platforms."""

from django.db import IntegrityError
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from syncs.payload import EnvelopeSerializer
from syncs.push import push_apply
from webhooks.envelope import PlatformPushSerializer, envelope_is_platform_push
from webhooks.inbox import inbox_events_build, inbox_store
from webhooks.signed import SignedRequestRefused, SignedView


@extend_schema(exclude=True)  # signed machine endpoint, described in the README
class SyncWebhookView(SignedView):
    """Verify, validate and store a batch of events; SyncJob applies them.

    The master's push of the platform list comes here too and is applied at
    once: it is small, and the master reports what each platform made of it.
    """

    def post(self, request):
        payload = self.get_payload()
        if envelope_is_platform_push(payload):
            return self.accept_platforms(payload)
        source = self.get_source()
        envelope = self.get_validated(EnvelopeSerializer, payload)
        self.source_check(envelope)
        rows = inbox_events_build(
            source=source, target=self.get_target(), events=envelope["events"]
        )
        accepted, duplicates = inbox_store(source=source, rows=rows)
        return Response(
            {"accepted": accepted, "duplicates": duplicates},
            status=status.HTTP_202_ACCEPTED,
        )

    def accept_platforms(self, payload) -> Response:
        """Apply a verified push of the platform list from the master."""
        sender = self.sender
        if not sender.bootstrap and not sender.platform.master:
            raise SignedRequestRefused(
                "not_master",
                f"{sender.domain} is not the master here; only the master pushes "
                "platform rows.",
                403,
            )
        push = self.get_validated(PlatformPushSerializer, payload)
        self.source_check(push)
        try:
            report = push_apply(rows=push["platforms"], syncs=push.get("syncs"))
        except IntegrityError as exc:
            detail = f"The list clashes with a kept row: {exc}"
            raise SignedRequestRefused("conflict", detail, 409) from None
        return Response(report.as_dict(), status=status.HTTP_200_OK)
