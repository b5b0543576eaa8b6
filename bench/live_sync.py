"""Benchmarks 2 and 3: throughput and latency between two real platforms.

Starts platforms A and B as the e2e harness does (gunicorn + Celery worker
each, a sync A:auth.User -> B:auth.User) and measures:

- throughput: N changes committed on A until all are applied on B, in
  records/s, against a baseline cluster in the same run that sends one webhook
  per record and applies one record per transaction (Moox's way);
- where the CPU goes: the CPU seconds per record that A's and B's web and
  worker processes (with their children) and A's own commits used during the
  throughput run, and the rate the machine's cores allow at that cost: the
  ceiling no scheduling of the same work can pass;
- latency: from commit on A to commit on B, over single changes, p50 and p99.

    .venv/bin/python bench/live_sync.py [-n 10000] [--baseline-n 2000]
        [--latency-n 200] [--redis redis://127.0.0.1:6379/0] [--profile DIR]
        [--batch-size N]

--batch-size sets SYNC_BATCH_SIZE on both platforms of the batched cluster;
--baseline-n 0 leaves the baseline cluster out.

With --profile, every Celery task and web request of the platforms runs under
cProfile and its stats land in DIR (see bench/profiling/sitecustomize.py).
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.agent import peer_counter  # noqa: E402
from harness.cluster import Cluster  # noqa: E402
from harness.processes import cpu_seconds  # noqa: E402

SYNCS = [
    {
        "source": "a",
        "source_model": "auth.User",
        "target": "b",
        "target_model": "auth.User",
    }
]


def _cpu(cluster: Cluster) -> dict[str, float]:
    """Return the CPU seconds each process (with its children) of A and B used."""
    return {
        f"{key.upper()} {role}": cpu_seconds(getattr(cluster[key], role).pid)
        for key in ("a", "b")
        for role in ("web", "worker")
    }


def throughput(cluster: Cluster, count: int, prefix: str) -> dict:
    """Commit ``count`` creates on A; return records/s until B has them all.

    Also return A's own commit rate for the same creates, in records/s, and
    the CPU seconds per record that each platform process and A's commits
    used meanwhile.
    """
    on_b = peer_counter(cluster["b"].env["DATABASE_URL"])
    started, cpu_before = time.time(), _cpu(cluster)
    produced = cluster["a"].call("bench.agent.users_create", prefix, count)
    while on_b(prefix) < count:
        if time.time() - started > 1800:
            raise SystemExit(f"only {on_b(prefix)} of {count} arrived in 30 min")
        time.sleep(0.05)
    elapsed = time.time() - produced["started"]
    cpu_after = _cpu(cluster)
    per_record = {
        name: (cpu_after[name] - cpu_before[name]) / count for name in cpu_after
    }
    return {
        "rate": count / elapsed,
        "committed": count / (produced["committed"] - produced["started"]),
        "cpu": per_record,
        "producer_cpu": produced["cpu_seconds"] / count,
    }


def cpu_report(figures: dict) -> None:
    """Print where the CPU went per record, and the rate the cores allow at that.

    A broker's or database server's own CPU is not counted: on the embedded
    defaults there is none (SQLite and the filesystem broker run in-process).
    """
    path = sum(figures["cpu"].values())
    total = path + figures["producer_cpu"]
    spent = ", ".join(f"{name} {s * 1000:.2f}" for name, s in figures["cpu"].items())
    cores = os.cpu_count() or 1
    print(
        f"            CPU per record (ms): {spent}; sync path {path * 1000:.2f}, "
        f"A's commits {figures['producer_cpu'] * 1000:.2f}"
        f"\n            at that CPU, {cores} cores allow at most "
        f"{cores / total:8.0f} records/s"
    )


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def with_cluster(name: str, extra_env: dict, work):
    folder = Path(tempfile.mkdtemp(prefix=f"mooxsync-bench-{name}-"))
    cluster = Cluster(folder, ["a", "b"], SYNCS, extra_env=extra_env).start()
    try:
        return work(cluster)
    finally:
        cluster.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=10_000)
    parser.add_argument("--baseline-n", type=int, default=2_000)
    parser.add_argument("--latency-n", type=int, default=200)
    parser.add_argument(
        "--redis", help="use Redis as the broker, e.g. redis://127.0.0.1:6379/0"
    )
    parser.add_argument("--profile", help="write cProfile stats of tasks here")
    parser.add_argument("--batch-size", type=int, help="SYNC_BATCH_SIZE on A and B")
    args = parser.parse_args()
    if args.redis:
        os.environ["CELERY_BROKER_URL"] = args.redis
    broker = "Redis" if args.redis else "filesystem transport"
    speed_env = {"SYNC_LOG_LEVEL": "WARNING"}
    if args.profile:
        Path(args.profile).mkdir(parents=True, exist_ok=True)
        speed_env |= {
            "PYTHONPATH": str(ROOT / "bench" / "profiling"),
            "BENCH_PROFILE_DIR": str(Path(args.profile).resolve()),
        }
    batched_env = speed_env
    if args.batch_size:
        batched_env = speed_env | {"SYNC_BATCH_SIZE": str(args.batch_size)}
    batches = f", SYNC_BATCH_SIZE={args.batch_size}" if args.batch_size else ""
    print(f"Live sync A -> B, SQLite per platform, {broker}{batches}")

    ours = with_cluster(
        "batched",
        batched_env,
        lambda c: (
            throughput(c, args.n, "t_"),
            c["a"].call(
                "bench.agent.commit_latency",
                "l_",
                args.latency_n,
                c["b"].env["DATABASE_URL"],
            ),
        ),
    )
    figures, lat = ours
    rate = figures["rate"]
    samples = lat["samples"]
    print(f"throughput  batched: {rate:8.0f} records/s over {args.n} changes")
    print(
        f"            A's own commit rate for them: {figures['committed']:8.0f} "
        "records/s"
    )
    cpu_report(figures)
    if args.baseline_n:
        baseline = with_cluster(
            "per-record",
            speed_env | {"SYNC_BATCH_SIZE": "1"},
            lambda c: throughput(c, args.baseline_n, "t_")["rate"],
        )
        print(
            f"throughput  baseline (one webhook per record): {baseline:8.0f} "
            f"records/s over {args.baseline_n} changes"
        )
        print(f"throughput  ratio: {rate / baseline:6.1f}x (target >= 10x)")
    print(
        f"latency     commit on A -> commit on B over {len(samples)} changes: "
        f"p50 {statistics.median(samples) * 1000:6.0f} ms (target <= 100), "
        f"p99 {percentile(samples, 0.99) * 1000:6.0f} ms (target <= 500)"
    )


if __name__ == "__main__":
    main()
