"""Reads of the delivery log: latencies and the payload an outbox row sends."""

import json
from datetime import timedelta

from django.db.models import DurationField, ExpressionWrapper, F, QuerySet
from django.utils.translation import gettext as _

from platforms.selectors import platform_current
from syncs.masking import secrets_mask
from syncs.models import OutboxEvent
from syncs.payload import envelope_build


class PayloadUnavailable(Exception):
    """The payload of an outbox row cannot be built; the message says why."""


def latency_annotate(queryset: QuerySet, *, start: str, end: str) -> QuerySet:
    """Annotate ``latency`` (``end`` - ``start``, None until ``end`` is set)."""
    return queryset.annotate(
        latency=ExpressionWrapper(F(end) - F(start), output_field=DurationField())
    )


def latency_of(start, end) -> timedelta | None:
    """Return how long an event took, or None while it is not done."""
    return end - start if start and end else None


def outbox_event_payload(*, row: OutboxEvent) -> dict:
    """Return the envelope ``row`` alone would be delivered in now, secrets masked.

    Raise PayloadUnavailable when it cannot be built: no sync any more, no row
    for this platform, a source model that is not installed, a failing
    transformer.
    """
    if row.sync is None:
        raise PayloadUnavailable(_("The sync of this event no longer exists."))
    source = platform_current()
    if source is None:
        raise PayloadUnavailable(_("This platform has no Platform row of its own."))
    try:
        body = envelope_build(source=source, target=row.target_platform, rows=[row])
    except Exception as error:  # a page that explains, not a 500, for any cause
        raise PayloadUnavailable(f"{type(error).__name__}: {error}") from None
    return secrets_mask(json.loads(body))
