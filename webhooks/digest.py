"""The digest endpoint: a source's backup compares its records with this target's.

POST {SYNC_WEBHOOK_URL}/digest, signed like the webhook. It answers only for
the target model of an active sync from the sender to this platform, and only
over the fields of that model the sync writes (syncs.mapping.target_fields_sent:
no privileged field its mappings leave out), and over the records' platforms
(PLATFORMS_FIELD) where the sender asks and this platform stores them.
Operations, each over the records of that model:

- ``plan``: which of the given fields compare (see field_compares), and how
  many records there are;
- ``buckets``: the digest of every bucket, for a bucket count;
- ``records``: the key and digest of each record in the buckets ``numbers``.

``buckets`` and ``records`` walk the records in pk order for at most
SYNC_PAGE_SECONDS, starting after the pk ``after`` if given: an answer whose
``next`` is not null covers the records up to that pk only, and the source asks
again with ``after`` set to it (digests of pages combine by XOR). So one
request stays well within a web server's timeout whatever the table's size.
"""

from django.apps import apps
from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from platforms.conf import sync_settings
from syncs.digest.hashing import MAX_BUCKETS, bucket_count_valid, buckets_encode
from syncs.digest.records import PLATFORMS_FIELD, fields_comparable
from syncs.digest.scan import Page, bucket_digests, bucket_entries, model_scope
from syncs.identity import IdentityError, model_identifier_require
from syncs.mapping import target_fields_sent
from syncs.models import MODEL_LABEL_RE, Sync
from webhooks.envelope import envelope_sync_for, fields_check
from webhooks.signed import SignedRequestRefused, SignedView

MAX_FIELDS = 1000


class DigestRequestSerializer(serializers.Serializer):
    op = serializers.ChoiceField(choices=["plan", "buckets", "records"])
    source_model = serializers.RegexField(MODEL_LABEL_RE.pattern, max_length=255)
    model = serializers.RegexField(MODEL_LABEL_RE.pattern, max_length=255)
    fields = serializers.ListField(
        child=serializers.CharField(max_length=255), max_length=MAX_FIELDS
    )
    buckets = serializers.IntegerField(
        min_value=1, max_value=MAX_BUCKETS, required=False
    )
    numbers = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=MAX_BUCKETS - 1),
        max_length=MAX_BUCKETS,
        required=False,
    )
    after = serializers.CharField(max_length=255, required=False, allow_null=True)

    def validate(self, attrs: dict) -> dict:
        if attrs["op"] == "plan":
            return attrs
        buckets = attrs.get("buckets")
        if buckets is None or not bucket_count_valid(buckets):
            raise serializers.ValidationError(
                {"buckets": f"A power of two from 1 to {MAX_BUCKETS}."}
            )
        if attrs["op"] == "records":
            numbers = attrs.get("numbers")
            if numbers is None or any(number >= buckets for number in numbers):
                raise serializers.ValidationError(
                    {"numbers": f"A list of bucket numbers below {buckets}."}
                )
        return attrs


def _model_fields(names: list[str]) -> list[str]:
    return [name for name in names if name != PLATFORMS_FIELD]


def _fields_answered(sync: Sync, model, names: list[str]) -> list[str]:
    """Return what the sync writes here among ``names``: no privileged field it
    leaves alone, the records' platforms only where this platform stores them."""
    fields = target_fields_sent(sync, _model_fields(names))
    stored = sync_settings.SYNC_MODELS_WITH_PLATFORM_RELATIONS
    if PLATFORMS_FIELD in names and model._meta.label in stored:
        fields.append(PLATFORMS_FIELD)
    return fields


def _page(model, after: str | None) -> Page:
    if after is not None:
        try:
            after = model._meta.pk.to_python(after)
        except ValidationError:
            label = model._meta.label
            detail = f"after: {after!r} is not a key of {label}."
            raise SignedRequestRefused("invalid", detail, 400) from None
    return Page(after=after, seconds=sync_settings.SYNC_PAGE_SECONDS)


def _next(page: Page) -> str | None:
    return None if page.next is None else str(page.next)


def digest_answer(*, sync: Sync, identifier: str, request: dict) -> dict:
    """Answer one digest request over the records of the sync's target model.

    Raise SignedRequestRefused when ``after`` is no pk of that model.
    """
    model = apps.get_model(sync.target_model)
    fields = _fields_answered(sync, model, request["fields"])
    if request["op"] == "plan":
        fields = fields_comparable(model, fields)
        return {"fields": fields, "records": model._default_manager.count()}
    scope = model_scope(model, identifier=identifier, fields=fields)
    page = _page(model, request.get("after"))
    if request["op"] == "buckets":
        found = bucket_digests(scope, buckets=request["buckets"], page=page)
        return {
            "buckets": request["buckets"],
            "digests": buckets_encode(found.digests),
            "next": _next(page),
        }
    entries = bucket_entries(
        scope, buckets=request["buckets"], numbers=set(request["numbers"]), page=page
    )
    return {
        "records": {
            str(number): [[entry.key, entry.digest] for entry in bucket.values()]
            for number, bucket in entries.items()
        },
        "next": _next(page),
    }


@extend_schema(exclude=True)  # signed machine endpoint, described in the README
class DigestView(SignedView):
    """Verify a signed digest request, check the allow-list, answer the digests."""

    renderer_classes = [JSONRenderer]
    bootstrap_refusal = (
        "unknown_platform",
        "Only a known platform may ask for digests.",
        401,
    )

    def post(self, request):
        source = self.get_source()
        digest_request = self.get_validated(DigestRequestSerializer, self.get_payload())
        target = self.get_target()
        sync = envelope_sync_for(digest_request, source=source, target=target, syncs={})
        fields_check(sync, dict.fromkeys(_model_fields(digest_request["fields"])))
        try:
            identifier = model_identifier_require(sync.target_model)
        except IdentityError as exc:
            raise SignedRequestRefused("no_identifier", str(exc), 400) from None
        return Response(
            digest_answer(sync=sync, identifier=identifier, request=digest_request)
        )
