"""Work the benchmarks do inside a platform's Django.

Each function runs there through ``PlatformProcess.call("bench.agent.NAME",
*args)`` (harness.cluster) and returns what it measured as JSON-able values.
``peer_counter`` also runs in the benchmark's own process.
"""

import random
import time

PASSWORD = "pbkdf2_sha256$1000000$benchsalt0123$" + "A" * 43 + "="


def peer_counter(database_url: str):
    """Return a function counting users whose name starts with a prefix, on a peer."""
    if database_url.startswith("sqlite"):
        import sqlite3

        conn = sqlite3.connect(database_url.removeprefix("sqlite:///"), timeout=30)
        placeholder = "?"
    else:
        import psycopg

        conn = psycopg.connect(
            database_url.replace("postgres://", "postgresql://"), autocommit=True
        )
        placeholder = "%s"
    sql = f"SELECT COUNT(*) FROM auth_user WHERE username LIKE {placeholder}"

    def count(prefix: str) -> int:
        row = conn.execute(sql, (prefix + "%",)).fetchone()
        if database_url.startswith("sqlite"):
            conn.commit()  # end the read transaction so the next read is fresh
        return row[0]

    return count


# --- live sync (bench/live_sync.py) ------------------------------------------


def users_create(prefix: str, count: int, per_transaction: int = 100) -> dict:
    """Create ``count`` users in transactions of ``per_transaction``."""
    from django.contrib.auth.models import User
    from django.db import transaction

    started, cpu = time.time(), time.process_time()
    for first in range(0, count, per_transaction):
        with transaction.atomic():
            for i in range(first, min(first + per_transaction, count)):
                User.objects.create(username=f"{prefix}{i}", password="!bench")
    return {
        "started": started,
        "committed": time.time(),
        "cpu_seconds": time.process_time() - cpu,
    }


def commit_latency(prefix: str, count: int, peer_database_url: str) -> dict:
    """Save users one at a time; time each commit until the peer has it."""
    from django.contrib.auth.models import User
    from django.db import transaction

    peer_count = peer_counter(peer_database_url)
    samples = []
    for i in range(count):
        name = f"{prefix}{i:05d}"
        with transaction.atomic():
            User.objects.create(username=name, password="!bench")
        committed = time.perf_counter()
        deadline = committed + 30
        while peer_count(name) == 0:
            if time.perf_counter() > deadline:
                raise SystemExit(f"{name} did not arrive within 30 s")
            time.sleep(0.002)
        samples.append(time.perf_counter() - committed)
    return {"samples": samples}


# --- backup and fill (bench/backup.py, bench/fill.py) ------------------------


def _users(first: int, count: int, prefix: str = "bench") -> list:
    from datetime import UTC, datetime

    from django.contrib.auth.models import User

    joined = datetime(2026, 1, 1, 12, 0, 0, 123456, tzinfo=UTC)
    return [
        User(
            username=f"{prefix}{i:07d}",
            email=f"{prefix}{i}@example.test",
            first_name=f"First{i % 100}",
            last_name=f"Last{i % 1000}",
            password=PASSWORD,
            date_joined=joined,
        )
        for i in range(first, first + count)
    ]


def users_seed(count: int) -> dict:
    """Create ``count`` users directly (bulk_create: no signals, no outbox)."""
    from django.contrib.auth.models import User

    started = time.perf_counter()
    for first in range(0, count, 5000):
        User.objects.bulk_create(_users(first, min(5000, count - first)))
    return {"seconds": time.perf_counter() - started}


def _raw_delete(pks: list[int]) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for first in range(0, len(pks), 500):
            chunk = pks[first : first + 500]
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(f"DELETE FROM auth_user WHERE id IN ({marks})", chunk)


def users_drift(side: str, each: int, tag: str) -> dict:
    """Change ``each`` records per kind behind the listener's back."""
    from django.contrib.auth.models import User

    rng = random.Random(tag)
    pks = list(
        User.objects.filter(username__startswith="bench").values_list("pk", flat=True)
    )
    picked = rng.sample(pks, min(len(pks), 2 * each))
    if side == "target":
        _raw_delete(picked[:each])
        return {"deleted": each}
    User.objects.filter(pk__in=picked[:each]).update(email=f"drift-{tag}@example.test")
    User.objects.bulk_create(_users(0, each, prefix=f"new{tag}-"))
    _raw_delete(picked[each:])
    return {"updated": each, "created": each, "deleted": each}


def backup_timed() -> dict:
    """Back up the sync; return the report and the time until T has the repair."""
    from syncs.backup.selectors import syncs_backed_up_here
    from syncs.backup.services import sync_backup
    from syncs.models import OutboxEvent

    started = time.perf_counter()
    report = sync_backup(sync=syncs_backed_up_here().get())
    compared = time.perf_counter()
    waiting = OutboxEvent.objects.exclude(status=OutboxEvent.Status.DELIVERED)
    while waiting.exists():
        if time.perf_counter() - started > 900:
            raise SystemExit("the repair was not delivered within 15 minutes")
        time.sleep(0.02)
    return report.as_dict() | {
        "compare_seconds": compared - started,
        "total_seconds": time.perf_counter() - started,
    }


def _naive_events(records: list, run: str, first: int) -> list[dict]:
    from syncs.digest.records import records_data
    from syncs.identity import NATURAL_KEY, record_key

    return [
        {
            "id": f"naive-{run}-{first + i}",
            "version": 10**12 + first + i,
            "type": "updated",
            "model": "auth.User",
            "source_model": "auth.User",
            "key": record_key(record, NATURAL_KEY),
            "data": data,
            "should_delete": False,
        }
        for i, (record, data) in enumerate(
            zip(records, records_data(records), strict=True)
        )
    ]


def full_resend(run: str) -> dict:
    """Serialize every user and POST them all to T's webhook, batch by batch."""
    import json

    from django.contrib.auth.models import User
    from django.core.serializers.json import DjangoJSONEncoder

    from platforms.conf import sync_settings
    from platforms.selectors import platform_current
    from platforms.transport import envelope_send
    from syncs.models import Sync

    source = platform_current()
    target = Sync.objects.select_related("target_platform").get().target_platform
    started, sent, batch = time.perf_counter(), 0, []

    def flush() -> None:
        nonlocal sent
        events = _naive_events(batch, run, sent)
        body = json.dumps(
            {"source": source.domain, "events": events},
            cls=DjangoJSONEncoder,
            separators=(",", ":"),
        ).encode()
        result = envelope_send(source=source, target=target, body=body)
        if not result.ok:
            raise SystemExit(f"full resend refused: {result.error}")
        sent += len(batch)
        batch.clear()

    for record in User.objects.iterator(chunk_size=2000):
        batch.append(record)
        if len(batch) == sync_settings.SYNC_BATCH_SIZE:
            flush()
    if batch:
        flush()
    return {"seconds": time.perf_counter() - started, "records": sent}


def inbox_drop(run: str) -> dict:
    """Drop the naive resend's events before T's worker could apply them."""
    from webhooks.models import InboxEvent

    deleted, _ = InboxEvent.objects.filter(
        event_id__startswith=f"naive-{run}-"
    ).delete()
    return {"deleted": deleted}


def inbox_settled() -> dict:
    """Tell whether T has applied everything it received."""
    from webhooks.models import InboxEvent

    return {"settled": not InboxEvent.objects.filter(status="pending").exists()}


def users_count() -> dict:
    """Return how many users this platform holds, and whether it applied all."""
    from django.contrib.auth.models import User

    return {"users": User.objects.count()} | inbox_settled()


def users_digest() -> dict:
    """Return the digest of every compared field of every user, and the count."""
    from django.contrib.auth.models import User

    from syncs.digest.hashing import buckets_encode
    from syncs.digest.records import fields_comparable, model_field_names
    from syncs.digest.scan import bucket_digests, model_scope

    fields = fields_comparable(User, model_field_names(User))
    scope = model_scope(User, identifier="natural_key", fields=fields)
    found = bucket_digests(scope, buckets=1)
    return {"digest": buckets_encode(found.digests), "records": found.counts[0]}


def target_point(domain: str) -> dict:
    """Make this platform reach T at ``domain`` (the counting proxy)."""
    from platforms.models import Platform
    from syncs.models import Sync

    target = Sync.objects.get().target_platform_id
    return {"updated": Platform.objects.filter(pk=target).update(domain=domain)}
