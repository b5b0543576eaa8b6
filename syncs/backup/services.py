"""Back up one sync: find its drift, send the repair, report."""

import time

from platforms.selectors import platform_current
from syncs.backup.client import DigestClient
from syncs.backup.compare import Exchange, drift_find, drift_plan
from syncs.backup.errors import BackupError
from syncs.backup.progress import ProgressFactory, progress_silent
from syncs.backup.repair import (
    repair_measure,
    repair_rows,
    repair_write,
)
from syncs.backup.report import BackupReport
from syncs.backup.schedule import backup_postpone
from syncs.backup.scope import source_fields, source_scope
from syncs.fill import FillError, fill_scope, fill_start
from syncs.identity import IdentityError, model_identifier_require
from syncs.models import Sync, SyncFill


def _identifier(sync: Sync) -> str:
    try:
        return model_identifier_require(sync.source_model)
    except (LookupError, ValueError) as exc:
        raise BackupError(f"{sync.source_model} is not installed here: {exc}") from None
    except IdentityError as exc:
        raise BackupError(str(exc)) from None


def _exchange(sync: Sync, client: DigestClient, progress: ProgressFactory):
    """Ask the target's plan; return the exchange over the fields it compares
    and the records it holds."""
    request = {
        "source_model": sync.source_model,
        "model": sync.target_model,
        "fields": source_fields(sync),
    }
    exchange = Exchange(client, request, progress, deletes=not sync.sync_ids)
    fields, target_records = drift_plan(exchange)
    exchange = Exchange(
        client, request | {"fields": fields}, progress, exchange.deletes
    )
    return exchange, target_records


def _fill_instead(sync: Sync, *, dry_run: bool) -> int:
    """Start the sync's fill unless it runs; return the records it sends.

    A target with no records differs in every one: the fill sends them in
    pages, where a repair would hold them all at once.
    """
    try:
        queryset, _ = fill_scope(sync)
    except FillError as exc:
        raise BackupError(str(exc)) from None
    running = SyncFill.objects.filter(pk=sync.pk, status=SyncFill.Status.RUNNING)
    if not dry_run and not running.exists():
        fill_start(sync)
    return queryset.count()


def sync_backup(
    *,
    sync: Sync,
    dry_run: bool = False,
    progress: ProgressFactory = progress_silent,
    client: DigestClient | None = None,
) -> BackupReport:
    """Make the sync's target equal to its source, sending only what differs.

    With ``dry_run`` nothing is written: the report says what would be sent.
    Raises BackupError when the sync cannot be compared.
    """
    started = time.monotonic()
    source = platform_current()
    if source is None or source.pk != sync.source_platform_id:
        raise BackupError(f"Sync {sync.pk} does not send from this platform.")
    client = client or DigestClient(source=source, target=sync.target_platform)
    identifier = _identifier(sync)
    exchange, target_records = _exchange(sync, client, progress)
    if target_records == 0:
        count = _fill_instead(sync, dry_run=dry_run)
        return BackupReport(
            sync_id=sync.pk,
            title=str(sync),
            dry_run=dry_run,
            checked=count,
            created=count,
            updated=0,
            deleted=0,
            unchanged=0,
            buckets=0,
            buckets_differing=0,
            exchange_requests=client.requests,
            exchange_bytes=client.bytes_total,
            repair_webhooks=0,
            repair_bytes=0,
            seconds=time.monotonic() - started,
            filled=True,
        )
    fields = exchange.request["fields"]
    scope = source_scope(sync, identifier=identifier, fields=fields)
    drift = drift_find(exchange, scope, target_records=target_records)
    rows = repair_rows(sync=sync, drift=drift)
    if not dry_run:
        repair_write(rows=rows)
        backup_postpone(sync)
    size = repair_measure(source=source, target=sync.target_platform, rows=rows)
    return BackupReport(
        sync_id=sync.pk,
        title=str(sync),
        dry_run=dry_run,
        checked=drift.checked,
        created=len(drift.created),
        updated=len(drift.updated),
        deleted=len(drift.deleted),
        unchanged=drift.unchanged,
        buckets=drift.buckets,
        buckets_differing=drift.buckets_differing,
        exchange_requests=client.requests,
        exchange_bytes=client.bytes_total,
        repair_webhooks=size.webhooks,
        repair_bytes=size.bytes,
        seconds=time.monotonic() - started,
    )
