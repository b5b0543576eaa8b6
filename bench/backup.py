"""Benchmark 4: what a backup costs against a naive full resend, by drift.

Starts platforms S and T as the e2e harness does (gunicorn + Celery worker
each, a sync S:auth.User -> T:auth.User, privileged fields too) and puts N
identical users in both databases directly (bulk_create, no signals). Then,
for no drift, 0.1 % drift and 10 % drift (a quarter each: QuerySet.update,
bulk_create and raw SQL deletes on S, raw SQL deletes on T), it measures in
the same run:

- backup: sync_backup on S, until its repair is delivered to T (then checks
  that both tables have equal digests once T has applied it);
- baseline: a naive full resend, every record of S serialized and POSTed to
  T's webhook in signed batches of SYNC_BATCH_SIZE (its events are dropped
  before T applies them).

Both are timed until T has stored what they sent (T's worker is stopped while
they run, so applying does not compete for the CPU with either).

Every byte between S and T goes through a counting TCP proxy in front of T,
so both are measured on the wire the same way (HTTP headers included).

Each drift is measured --rounds times (a fresh drift each time); the fastest
backup and the fastest full resend count, so a busy machine skews neither.

    .venv/bin/python bench/backup.py [-n 100000] [--rounds 2] [--postgres URL]
        [--redis URL]
"""

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.proxy import Proxy  # noqa: E402

# Keys of their own: a platform's PostgreSQL database and Redis database are
# named after its key, and the e2e tests use "s" and "t".
SOURCE, TARGET = "bs", "bt"
# The privileged fields too (mapped by name), so both tables can end up equal
# (each platform's admin has a password of its own until the sync sends S's).
PRIVILEGED = ("password", "is_staff", "is_superuser", "user_permissions")


def users_sync(source: str, target: str) -> dict:
    """Return a benchmark's sync: source's auth.User, privileged fields too."""
    return {
        "source": source,
        "source_model": "auth.User",
        "target": target,
        "target_model": "auth.User",
        "field_mappings": {name: name for name in PRIVILEGED},
    }


SYNCS = [users_sync(SOURCE, TARGET)]
SCENARIOS = [("no drift", 0.0), ("0.1% drift", 0.001), ("10% drift", 0.10)]
# (bytes, time) the backup may cost at most, as a share of the full resend.
TARGETS = {"no drift": (0.02, None), "0.1% drift": (0.05, 0.25), "10% drift": (1, 1)}


# --- the benchmark -------------------------------------------------------------


def _converged(s, t) -> bool:
    deadline = time.monotonic() + 600
    while not t.call("bench.agent.inbox_settled")["settled"]:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    return s.call("bench.agent.users_digest") == t.call("bench.agent.users_digest")


def measure(cluster, meter: Proxy, tag: str, each: int) -> tuple[dict, dict]:
    """Drift, back up, resend everything naively; check; return both figures."""
    s, t = cluster[SOURCE], cluster[TARGET]
    if each:
        s.call("bench.agent.users_drift", "source", each, tag)
        t.call("bench.agent.users_drift", "target", each, tag + "t")
    # Both are measured until T has stored what they sent, not applied it: T's
    # worker waits meanwhile, and the full resend's events are dropped unapplied.
    t.worker_stop()
    try:
        meter.reset()
        backup = s.call("bench.agent.backup_timed")
        backup["wire_bytes"] = meter.bytes
        meter.reset()
        naive = s.call("bench.agent.full_resend", tag)
        naive["wire_bytes"] = meter.bytes
        t.call("bench.agent.inbox_drop", tag)
    finally:
        t.worker_start()
    backup["converged"] = _converged(s, t)
    return backup, naive


def scenario(
    cluster, meter: Proxy, run: int, share: float, count: int, rounds: int
) -> dict:
    """Measure one drift ``rounds`` times (a fresh drift each); keep the best."""
    each = max(1, round(count * share / 4)) if share else 0
    found = [measure(cluster, meter, f"r{run}x{n}", each) for n in range(rounds)]
    return {
        "name": SCENARIOS[run][0],
        "drift": 4 * each,
        "rounds": rounds,
        "converged": all(backup["converged"] for backup, _ in found),
        "backup": min((b for b, _ in found), key=lambda b: b["total_seconds"]),
        "naive": min((n for _, n in found), key=lambda n: n["seconds"]),
    }


def _mb(count: int) -> str:
    return f"{count / 1e6:8.3f} MB"


def report(figures: dict) -> None:
    backup, naive = figures["backup"], figures["naive"]
    share_bytes = backup["wire_bytes"] / naive["wire_bytes"]
    share_time = backup["total_seconds"] / naive["seconds"]
    most_bytes, most_time = TARGETS[figures["name"]]
    verdict = share_bytes <= most_bytes and (
        most_time is None or share_time <= most_time
    )
    print(
        f"\n{figures['name']} ({figures['drift']} records drifted, best of "
        f"{figures['rounds']}): {'PASS' if verdict else 'FAIL'}"
        f"\n  backup     {_mb(backup['wire_bytes'])} on the wire, "
        f"{backup['total_seconds']:6.2f} s until delivered "
        f"(compare {backup['compare_seconds']:.2f} s); created {backup['created']}, "
        f"updated {backup['updated']}, deleted {backup['deleted']}, "
        f"unchanged {backup['unchanged']}; {backup['buckets_differing']} of "
        f"{backup['buckets']} buckets differ; converged: {figures['converged']}"
        f"\n             its own count: digests {_mb(backup['exchange_bytes'])} in "
        f"{backup['exchange_requests']} requests, repair bodies "
        f"{_mb(backup['repair_bytes'])} in {backup['repair_webhooks']} webhooks"
        f"\n  full resend {_mb(naive['wire_bytes'])} on the wire, "
        f"{naive['seconds']:6.2f} s for {naive['records']} records"
        f"\n  backup / full resend: bytes {share_bytes:7.2%} "
        f"(target <= {most_bytes:.0%}), time {share_time:7.2%}"
        + (f" (target <= {most_time:.0%})" if most_time is not None else "")
    )


def stack_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options that choose the platforms' database and broker."""
    parser.add_argument(
        "--postgres", help="e.g. postgres://postgres@127.0.0.1:5432/test"
    )
    parser.add_argument("--redis", help="e.g. redis://127.0.0.1:6379/0")


def stack_use(args: argparse.Namespace) -> str:
    """Make the platforms started next use the chosen stack; return its name."""
    for name, value in (
        ("DATABASE_URL", args.postgres),
        ("CELERY_BROKER_URL", args.redis),
    ):
        if value:
            os.environ[name] = value
    database = "PostgreSQL" if args.postgres else "SQLite"
    return f"{database} + {'Redis' if args.redis else 'filesystem broker'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=100_000, help="users per platform")
    stack_arguments(parser)
    parser.add_argument(
        "--rounds", type=int, default=2, help="measurements per drift; the best counts"
    )
    args = parser.parse_args()
    stack = stack_use(args)
    from harness.cluster import Cluster

    folder = Path(tempfile.mkdtemp(prefix="mooxsync-bench-backup-"))
    env = {"SYNC_LOG_LEVEL": "WARNING"}
    cluster = Cluster(
        folder, [SOURCE, TARGET], SYNCS, extra_env=env, redis_first=6
    ).start()
    meter = Proxy(cluster[TARGET].spec.port)
    print(f"Backup vs full resend, {args.n} users per platform, {stack}")
    try:
        cluster[SOURCE].call("bench.agent.target_point", f"127.0.0.1:{meter.port}")
        for key in (SOURCE, TARGET):
            seeded = cluster[key].call("bench.agent.users_seed", args.n)
            print(f"  seeded {key[1].upper()} in {seeded['seconds']:.1f} s")
        if not _converged(cluster[SOURCE], cluster[TARGET]):
            raise SystemExit("S and T differ before the first scenario")
        for run, (_, share) in enumerate(SCENARIOS):
            report(scenario(cluster, meter, run, share, args.n, args.rounds))
    finally:
        meter.close()
        cluster.stop()


if __name__ == "__main__":
    main()
