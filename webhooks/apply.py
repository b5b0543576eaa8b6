"""SyncJob: apply inbox events to the target's records, in order, per batch."""

import logging

from celery.exceptions import SoftTimeLimitExceeded
from django.apps import apps
from django.db import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    transaction,
)
from django.utils import timezone
from django.utils.text import Truncator

from platforms.conf import sync_settings
from platforms.models import Platform
from platforms.services import platform_relations_set
from syncs.bindings import handler_for
from syncs.identity import model_identifier_require, record_find, record_key_digest
from syncs.models import EventType, Sync
from syncs.registry import applying_from
from webhooks.files.descriptions import file_descriptions_resolve
from webhooks.links import (
    Links,
    link_owner_other,
    link_record,
    link_set,
    link_slot,
    links_of,
    links_save,
)
from webhooks.models import AppliedVersion, InboxEvent
from webhooks.upserts import Upsert, upserts_plan
from webhooks.values import (
    EventDataInvalid,
    file_values_screen,
    privileged_screen,
    record_values_write,
)

logger = logging.getLogger(__name__)
# Failures of the worker or the database, not of an event: an event failed for
# one of them would never be applied.
WORKER_TROUBLE = (SoftTimeLimitExceeded, OperationalError, InterfaceError)
# The most of an event's error kept (in the inbox and on its sync).
ERROR_MAX = 2000


class EventRefused(Exception):
    """An event could not be applied (the Sync's if_exists says error, bad data)."""


def _relations_apply(record, event: InboxEvent) -> None:
    if event.platforms is None or record._meta.label not in (
        sync_settings.SYNC_MODELS_WITH_PLATFORM_RELATIONS
    ):
        return
    platforms = Platform.objects.filter(domain__in=event.platforms)
    platform_relations_set(record=record, platforms=platforms)


def _record_of(event: InboxEvent, model, identifier: str, links: Links, *, gone: bool):
    """Return the record the event is for: its source record's row, else by key."""
    found = record_find(model, identifier, event.object_key)
    if not event.source_pk:
        return found  # an older sender: the key is all there is
    linked = link_record(links, event, model)
    if linked is None:
        other = found and link_owner_other(links, event, str(found.pk))
        if other:
            raise EventRefused(
                f"{event.model_label} {event.object_key} belongs to another source "
                f"record (source pk {other!r}, not {event.source_pk!r}); nothing "
                "was changed."
            )
        return found
    if found and found.pk != linked.pk and not gone:
        raise EventRefused(
            f"Cannot rename {event.model_label} (source pk {event.source_pk!r}) to "
            f"{event.object_key}: another record here holds that key already; "
            "nothing was changed."
        )
    return linked  # a new key on the same row is a rename


def _event_apply(event: InboxEvent, sync: Sync, links: Links) -> tuple[str, str]:
    """Apply one event; return the inbox status it ends in and the record's pk."""
    model = apps.get_model(sync.target_model)
    identifier = model_identifier_require(sync.target_model)
    handler = handler_for(sync.target_model)
    gone = event.should_delete or event.event_type == EventType.DELETED
    existing = _record_of(event, model, identifier, links, gone=gone)
    if gone:
        if handler:
            handler.delete(sync=sync, key=event.object_key)
        elif existing:
            existing.delete()
        return InboxEvent.Status.APPLIED, ""
    if existing and sync.if_exists == Sync.IfExists.SKIP:
        return InboxEvent.Status.SKIPPED, str(existing.pk)
    if existing and sync.if_exists == Sync.IfExists.ERROR:
        raise EventRefused(f"{sync.target_model} {event.object_key} exists already.")
    data = privileged_screen(sync, event.data)
    if handler:
        handler.sync(sync=sync, key=event.object_key, data=data)
        return InboxEvent.Status.APPLIED, ""
    data = file_values_screen(model, existing, data)
    data = file_descriptions_resolve(model=model, record=existing, data=data)
    record = record_values_write(model, existing, data, sync=sync)
    _relations_apply(record, event)
    return InboxEvent.Status.APPLIED, str(record.pk)


def _deferred_constraints_check() -> None:
    """Check now, inside the event's savepoint, what the database checks at commit.

    PostgreSQL defers Django's foreign keys to commit, where one bad row would
    fail the whole batch; checking is cheap there (the pending checks only).
    SQLite's check reads whole tables: there the values are checked before
    they are written, and a failed commit is retried event by event.
    """
    connection = transaction.get_connection()
    if connection.vendor == "postgresql":
        connection.check_constraints()


def _error_text(exc: BaseException) -> str:
    return Truncator(f"{type(exc).__name__}: {exc}").chars(ERROR_MAX)


def _event_fail(event: InboxEvent, exc: BaseException, outcomes: dict) -> None:
    """Mark the event failed with the reason, for the inbox and its sync."""
    event.status, event.error = InboxEvent.Status.FAILED, _error_text(exc)
    outcomes.setdefault(event.sync_id, []).append(event.error)
    logger.warning(
        "Event %s from %s failed: %s",
        event.event_id,
        event.source_platform_id,
        event.error,
    )


def _versions_of(events: list[InboxEvent]) -> dict[tuple, AppliedVersion]:
    digests = {record_key_digest(e.object_key) for e in events}
    found = AppliedVersion.objects.filter(key_digest__in=digests)
    return {(v.source_platform_id, v.model_label, v.key_digest): v for v in found}


def _version_slot(event: InboxEvent) -> tuple:
    return (
        event.source_platform_id,
        event.model_label,
        record_key_digest(event.object_key),
    )


def _stale(event: InboxEvent, versions: dict, links: Links) -> bool:
    """Tell whether a version of the event's record as new is applied already."""
    # A source record's link outlives its key (a rename, reordered delivery).
    applied = (event.source_pk and links.get(link_slot(event))) or versions.get(
        _version_slot(event)
    )
    return bool(applied and applied.version >= event.version)


def _skip_stale(event: InboxEvent) -> None:
    event.status, event.error = InboxEvent.Status.SKIPPED, "stale version"


def _applied(event: InboxEvent, target_pk: str, versions, links, outcomes) -> None:
    """Note the event's version as applied to ``target_pk``, for its record."""
    outcomes.setdefault(event.sync_id, [])
    if event.source_pk:
        link_set(links, event, target_pk)
        return
    slot = _version_slot(event)
    versions[slot] = AppliedVersion(
        source_platform_id=slot[0],
        model_label=slot[1],
        key_digest=slot[2],
        version=event.version,
    )


def _event_run(event: InboxEvent, versions: dict, links: Links, outcomes: dict) -> None:
    """Apply one event in a savepoint, unless a newer version is applied already."""
    if _stale(event, versions, links):
        _skip_stale(event)
        return
    try:
        with transaction.atomic(), applying_from(event.source_platform_id):
            event.status, target_pk = _event_apply(event, event.sync, links)
            _deferred_constraints_check()
    except WORKER_TROUBLE:
        raise  # not the event's fault: roll the batch back and retry it whole
    except Exception as exc:  # one bad event must not stop its batch
        _event_fail(event, exc, outcomes)
        return
    _applied(event, target_pk, versions, links, outcomes)


def _upsert_write(item: Upsert) -> None:
    """Write one planned upsert; note a value the record refuses on the item."""
    event, sync, existing = item.event, item.event.sync, item.existing
    if existing and sync.if_exists == Sync.IfExists.SKIP:
        item.status, item.target_pk = InboxEvent.Status.SKIPPED, str(existing.pk)
        return
    try:
        data = privileged_screen(sync, event.data)
        data = file_values_screen(item.model, existing, data)
        data = file_descriptions_resolve(model=item.model, record=existing, data=data)
        # A unique value taken fails the savepoint: then the batch goes event
        # by event, where validate_unique names the field.
        record = record_values_write(
            item.model, existing, data, sync=sync, unique_checked=False
        )
    except EventDataInvalid as exc:  # nothing of it written: the rest go on
        item.error = exc
        return
    item.status, item.target_pk = InboxEvent.Status.APPLIED, str(record.pk)


def _upserts_run(events: list[InboxEvent], versions, links, outcomes) -> bool:
    """Apply a batch of plain upserts in one savepoint; False if it is not one.

    False also when the database refuses a write (a unique value taken, a
    foreign key): nothing is kept then, and the batch goes event by event.
    """
    fresh = [event for event in events if not _stale(event, versions, links)]
    plan = upserts_plan(fresh, links)
    if plan is None:
        return False
    try:
        with transaction.atomic():
            for item in plan:
                with applying_from(item.event.source_platform_id):
                    _upsert_write(item)
            _deferred_constraints_check()
    except WORKER_TROUBLE:
        raise
    except Exception as exc:
        logger.info("Applying a batch in bulk failed (%s); event by event now.", exc)
        return False
    planned = {id(item.event) for item in plan}
    for event in events:
        if id(event) not in planned:
            _skip_stale(event)
    for item in plan:
        if item.error:
            _event_fail(item.event, item.error, outcomes)
            continue
        item.event.status = item.status
        _applied(item.event, item.target_pk, versions, links, outcomes)
    return True


def _versions_save(versions: dict[tuple, AppliedVersion]) -> None:
    """Record the newest applied version of every record the batch touched."""
    AppliedVersion.objects.upsert(
        [version for version in versions.values() if version.pk is None],
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


def _pending(size: int) -> list[InboxEvent]:
    events = list(
        InboxEvent.objects.filter(status=InboxEvent.Status.PENDING).order_by("pk")[
            :size
        ]
    )
    # A few syncs for many events: each read once, not joined into every row.
    syncs = Sync.objects.in_bulk({event.sync_id for event in events} - {None})
    for event in events:
        event.sync = syncs.get(event.sync_id)
    return events


Outcomes = dict[int, list[str]]  # sync id -> errors of its events


def _batch_apply(*, size: int) -> tuple[int, Outcomes]:
    """Apply the oldest pending inbox events; return how many, and the outcomes."""
    events = _pending(size)
    # Arrival order across senders; each sender's own order within a batch.
    events.sort(key=lambda e: (e.source_platform_id, e.version))
    versions = _versions_of(events) if events else {}
    links = links_of(events)
    outcomes: Outcomes = {}
    live = []
    for event in events:
        if event.sync is None or not event.sync.status:
            event.status, event.error = (
                InboxEvent.Status.SKIPPED,
                "sync inactive or gone",
            )
            continue
        live.append(event)
    if not _upserts_run(live, versions, links, outcomes):
        for event in live:
            _event_run(event, versions, links, outcomes)
    _versions_save(versions)
    links_save(links)
    _statuses_save(events)
    return len(events), outcomes


def _first_fail(exc: IntegrityError) -> tuple[int, Outcomes]:
    """Mark the oldest pending event failed with the database's reason."""
    events = _pending(1)
    outcomes: Outcomes = {}
    for event in events:
        _event_fail(event, exc, outcomes)
    _statuses_save(events)
    return len(events), {key: errors for key, errors in outcomes.items() if key}


def _batch_apply_singly(*, size: int) -> int:
    """Apply up to ``size`` pending events, each in a transaction of its own."""
    count, outcomes = 0, {}
    while count < size:
        try:
            with transaction.atomic():
                done, found = _batch_apply(size=1)
        except IntegrityError as exc:  # refused at commit: this event is at fault
            with transaction.atomic():
                done, found = _first_fail(exc)
        if not done:
            break
        count += done
        for sync_id, errors in found.items():
            outcomes.setdefault(sync_id, []).extend(errors)
    # Reported once, as for a batch: a later event must not hide an error.
    _syncs_report(outcomes)
    return count


def inbox_apply_batch(*, size: int) -> int:
    """Apply the oldest pending inbox events in one transaction; return how many.

    A constraint the database checks only at commit (SQLite's deferred foreign
    keys) rolls the whole batch back: its events are then applied again, one
    transaction each, so that only the event at fault fails.
    """
    try:
        with transaction.atomic():
            count, outcomes = _batch_apply(size=size)
            _syncs_report(outcomes)
    except IntegrityError as exc:
        logger.warning(
            "A batch failed at commit (%s); applying it event by event.", exc
        )
        return _batch_apply_singly(size=size)
    if count:
        logger.info("Applied a batch of %d inbox event(s).", count)
    return count
