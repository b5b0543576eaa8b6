"""SyncJob: apply inbox events to the target's records, in order, per batch."""

import logging

from celery.exceptions import SoftTimeLimitExceeded
from django.apps import apps
from django.core import serializers
from django.db import InterfaceError, OperationalError, transaction
from django.utils import timezone

from platforms.conf import sync_settings
from platforms.models import Platform
from platforms.roster import RosterReport, roster_apply
from platforms.services import platform_relations_set
from syncs.bindings import handler_for
from syncs.identity import model_identifier_require, record_find, record_key_digest
from syncs.models import EventType, Sync
from syncs.registry import applying_from, registry_invalidate
from webhooks.files.settle import file_fields_settle
from webhooks.models import AppliedVersion, InboxEvent

logger = logging.getLogger(__name__)
# Failures of the worker or the database, not of an event: an event failed for
# one of them would never be applied.
WORKER_TROUBLE = (SoftTimeLimitExceeded, OperationalError, InterfaceError)


class EventRefused(Exception):
    """An event could not be applied (the Sync's if_exists says error, bad data)."""


def _record_write(model, existing, data: dict):
    """Write ``data`` onto ``existing`` (or a new record) via Django's serializer."""
    # A stand-in pk keeps the deserializer from looking the record up by its
    # natural key a second time; only the field values are taken from it.
    row = {"model": model._meta.label_lower, "pk": existing.pk if existing else 0}
    deserialized = next(
        serializers.deserialize(
            "python", [row | {"fields": data}], handle_forward_references=False
        )
    )
    record = existing or model()
    for name in data:
        field = model._meta.get_field(name)
        if not field.many_to_many:
            setattr(record, field.attname, getattr(deserialized.object, field.attname))
    record.save()
    for name, values in (deserialized.m2m_data or {}).items():
        if existing or values:  # a new record has no links to clear
            getattr(record, name).set(values)
    return record


def _relations_apply(record, event: InboxEvent) -> None:
    if event.platforms is None or record._meta.label not in (
        sync_settings.SYNC_MODELS_WITH_PLATFORM_RELATIONS
    ):
        return
    platforms = Platform.objects.filter(domain__in=event.platforms)
    platform_relations_set(record=record, platforms=platforms)


def _event_apply(event: InboxEvent, sync: Sync) -> str:
    """Apply one event; return the inbox status it ends in."""
    model = apps.get_model(sync.target_model)
    identifier = model_identifier_require(sync.target_model)
    handler = handler_for(sync.target_model)
    existing = record_find(model, identifier, event.object_key)
    if event.should_delete or event.event_type == EventType.DELETED:
        if handler:
            handler.delete(sync=sync, key=event.object_key)
        elif existing:
            existing.delete()
        return InboxEvent.Status.APPLIED
    if existing and sync.if_exists == Sync.IfExists.SKIP:
        return InboxEvent.Status.SKIPPED
    if existing and sync.if_exists == Sync.IfExists.ERROR:
        raise EventRefused(f"{sync.target_model} {event.object_key} exists already.")
    if handler:
        handler.sync(sync=sync, key=event.object_key, data=event.data)
        return InboxEvent.Status.APPLIED
    data = file_fields_settle(model=model, record=existing, data=event.data)
    record = _record_write(model, existing, data)
    _relations_apply(record, event)
    return InboxEvent.Status.APPLIED


def _versions_of(events: list[InboxEvent]) -> dict[tuple, AppliedVersion]:
    digests = {record_key_digest(e.object_key) for e in events}
    found = AppliedVersion.objects.filter(key_digest__in=digests)
    return {(v.source_platform_id, v.model_label, v.key_digest): v for v in found}


def _event_run(event: InboxEvent, versions: dict, outcomes: dict) -> None:
    """Apply one event in a savepoint, unless a newer version is applied already."""
    slot = (
        event.source_platform_id,
        event.model_label,
        record_key_digest(event.object_key),
    )
    applied = versions.get(slot)
    if applied and applied.version >= event.version:
        event.status, event.error = InboxEvent.Status.SKIPPED, "stale version"
        return
    try:
        with transaction.atomic(), applying_from(event.source_platform_id):
            event.status = _event_apply(event, event.sync)
    except WORKER_TROUBLE:
        raise  # not the event's fault: roll the batch back and retry it whole
    except Exception as exc:  # one bad event must not stop its batch
        event.status, event.error = (
            InboxEvent.Status.FAILED,
            f"{type(exc).__name__}: {exc}",
        )
        outcomes.setdefault(event.sync_id, []).append(event.error)
        logger.warning(
            "Event %s from %s failed: %s",
            event.event_id,
            event.source_platform_id,
            event.error,
        )
        return
    versions[slot] = AppliedVersion(
        source_platform_id=slot[0],
        model_label=slot[1],
        key_digest=slot[2],
        version=event.version,
    )
    outcomes.setdefault(event.sync_id, [])


def _versions_save(versions: dict[tuple, AppliedVersion]) -> None:
    """Record the newest applied version of every record the batch touched."""
    AppliedVersion.objects.bulk_create(
        [version for version in versions.values() if version.pk is None],
        update_conflicts=True,
        unique_fields=["source_platform", "model_label", "key_digest"],
        update_fields=["version"],
    )


def _statuses_save(events: list[InboxEvent]) -> None:
    """Store each event's outcome: one UPDATE per outcome, errors one by one."""
    now = timezone.now()
    by_status: dict[str, list[int]] = {}
    for event in events:
        if event.error:
            InboxEvent.objects.filter(pk=event.pk).update(
                status=event.status, error=event.error, applied_at=now
            )
        else:
            by_status.setdefault(event.status, []).append(event.pk)
    for status, pks in by_status.items():
        InboxEvent.objects.filter(pk__in=pks).update(status=status, applied_at=now)


def _syncs_report(outcomes: dict[int, list[str]]) -> None:
    now = timezone.now()
    for sync_id, errors in outcomes.items():
        Sync.objects.filter(pk=sync_id).update(
            last_sync=now, has_errors=bool(errors), error_message="\n".join(errors[-5:])
        )


def inbox_apply_batch(*, size: int) -> int:
    """Apply the oldest pending inbox events in one transaction; return how many."""
    with transaction.atomic():
        events = list(
            InboxEvent.objects.filter(status=InboxEvent.Status.PENDING)
            .select_related("sync")
            .order_by("pk")[:size]
        )
        # Arrival order across senders; each sender's own order within a batch.
        events.sort(key=lambda e: (e.source_platform_id, e.version))
        if not events:
            return 0
        versions = _versions_of(events)
        outcomes: dict[int, list[str]] = {}
        for event in events:
            if event.sync is None or not event.sync.status:
                event.status, event.error = (
                    InboxEvent.Status.SKIPPED,
                    "sync inactive or gone",
                )
                continue
            _event_run(event, versions, outcomes)
        _versions_save(versions)
        _statuses_save(events)
        _syncs_report(outcomes)
    logger.info("Applied a batch of %d inbox event(s).", len(events))
    return len(events)


def platforms_apply(*, rows: list[dict]) -> RosterReport:
    """Make the platform list the master's (the receiving side of its push)."""
    report = roster_apply(rows=rows)
    # A platform's domain decides which syncs start here: reload them now.
    registry_invalidate()
    return report
