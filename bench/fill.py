"""Benchmarks 1 and 4: the initial fill of a large table, and a backup beside it.

Starts platforms S and T as the e2e harness does (gunicorn + Celery worker
each, a sync S:auth.User -> T:auth.User, loaded as a fixture so no fill
starts by itself) and puts N users in S's table directly (bulk_create, no
signals). Then, in the same run:

1. fill: ``manage.py sync_backup --fill`` on S, timed until T has applied
   every record (T's table holds N users and its inbox has nothing pending):
   wall time, records/s, bytes on the wire, and the peak RSS of every
   process of both platforms (web and worker, with their children) and of
   the command, sampled every 0.2 s. Targets: under 10 minutes, no process
   above 500 MB.
2. backup: 0.1% drift (a quarter each: QuerySet.update, bulk_create and raw
   SQL deletes on S, raw SQL deletes on T), then ``sync_backup`` on S, timed
   until T has applied the repair and both tables digest equal. Targets: at
   most 5% of the fill's bytes and 25% of its time.

Every byte between S and T goes through a counting TCP proxy in front of T.

    .venv/bin/python bench/fill.py [-n 1000000] [--postgres URL] [--redis URL]
"""

import argparse
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.backup import stack_arguments, stack_use, users_sync  # noqa: E402
from harness.processes import process_tree  # noqa: E402
from harness.proxy import Proxy  # noqa: E402

SOURCE, TARGET = "fs", "ft"
SYNCS = [users_sync(SOURCE, TARGET)]
MAX_SECONDS = 600
MAX_RSS_MB = 500
DRIFT = 0.001
# (bytes, time) the backup may cost at most, as a share of the fill.
BACKUP_TARGETS = (0.05, 0.25)


def _rss_mb(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class PeakMemory:
    """Sample the RSS of process trees every 0.2 s; keep each process's peak."""

    def __init__(self) -> None:
        self.roots: dict[str, int] = {}
        self.peaks: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def watch(self, name: str, pid: int) -> None:
        self.roots[name] = pid

    def start(self) -> "PeakMemory":
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            for name, root in list(self.roots.items()):
                for pid in process_tree(root):
                    label = name if pid == root else f"{name} (child {pid})"
                    rss = _rss_mb(pid)
                    self.peaks[label] = max(self.peaks.get(label, 0.0), rss)

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join()
        return self.peaks


def _applied(t, count: int, deadline: float) -> float:
    """Wait until T holds ``count`` users and has nothing pending; return when."""
    while True:
        found = t.call("bench.agent.users_count")
        if found["users"] >= count and found["settled"]:
            return time.perf_counter()
        if time.monotonic() > deadline:
            raise SystemExit(f"T did not apply the fill in time: {found}")
        time.sleep(0.5)


def fill(cluster, meter: Proxy, count: int) -> dict:
    """Fill T from S; return its figures."""
    s, t = cluster[SOURCE], cluster[TARGET]
    memory = PeakMemory()
    for key in (SOURCE, TARGET):
        memory.watch(f"{key[1].upper()} web", cluster[key].web.pid)
        memory.watch(f"{key[1].upper()} worker", cluster[key].worker.pid)
    meter.reset()
    from harness.processes import process_env

    started = time.perf_counter()
    command = subprocess.Popen(
        [sys.executable, "manage.py", "sync_backup", "--fill", "--sync", "1"],
        cwd=ROOT,
        env=process_env(s.env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    memory.watch("S sync_backup --fill", command.pid)
    memory.start()
    try:
        out, err = command.communicate(timeout=3 * MAX_SECONDS)
        if command.returncode:
            raise SystemExit(f"sync_backup --fill failed: {err[-3000:]}")
        delivered = time.perf_counter()
        applied = _applied(t, count, time.monotonic() + MAX_SECONDS)
    finally:
        peaks = memory.stop()
    return {
        "seconds": applied - started,
        "delivered_seconds": delivered - started,
        "wire_bytes": meter.bytes,
        "peaks": peaks,
        "output": out.strip(),
    }


def _digest(platform) -> dict:
    return platform.call("bench.agent.users_digest")


def backup(cluster, meter: Proxy, count: int) -> dict:
    """Drift 0.1%, back up; return its figures once T equals S again."""
    s, t = cluster[SOURCE], cluster[TARGET]
    each = max(1, round(count * DRIFT / 4))
    s.call("bench.agent.users_drift", "source", each, "fill")
    t.call("bench.agent.users_drift", "target", each, "fillt")
    meter.reset()
    started = time.perf_counter()
    report = s.call("bench.agent.backup_timed")
    deadline = time.monotonic() + MAX_SECONDS
    while not t.call("bench.agent.inbox_settled")["settled"]:
        if time.monotonic() > deadline:
            raise SystemExit("T did not apply the backup's repair in time")
        time.sleep(0.2)
    seconds = time.perf_counter() - started
    return report | {
        "seconds": seconds,
        "wire_bytes": meter.bytes,
        "drift": 4 * each,
        "converged": _digest(s) == _digest(t),
    }


def report(count: int, filled: dict, backed: dict) -> None:
    rate = count / filled["seconds"]
    top = max(filled["peaks"].values())
    verdict = filled["seconds"] < MAX_SECONDS and top <= MAX_RSS_MB
    print(
        f"\nfill: {'PASS' if verdict else 'FAIL'}"
        f"\n  {count} records in {filled['seconds']:.1f} s ({rate:.0f} records/s; "
        f"delivered after {filled['delivered_seconds']:.1f} s), "
        f"{filled['wire_bytes'] / 1e6:.1f} MB on the wire"
        f"\n  peak RSS (target <= {MAX_RSS_MB} MB each):"
    )
    for name, mb in sorted(filled["peaks"].items()):
        print(f"    {name:40} {mb:7.1f} MB")
    share_bytes = backed["wire_bytes"] / filled["wire_bytes"]
    share_time = backed["seconds"] / filled["seconds"]
    most_bytes, most_time = BACKUP_TARGETS
    verdict = share_bytes <= most_bytes and share_time <= most_time
    print(
        f"\nbackup with 0.1% drift ({backed['drift']} records): "
        f"{'PASS' if verdict else 'FAIL'}"
        f"\n  {backed['wire_bytes'] / 1e6:.2f} MB on the wire in "
        f"{backed['seconds']:.1f} s; created {backed['created']}, updated "
        f"{backed['updated']}, deleted {backed['deleted']}; converged: "
        f"{backed['converged']}"
        f"\n  backup / fill: bytes {share_bytes:.2%} (target <= {most_bytes:.0%}), "
        f"time {share_time:.2%} (target <= {most_time:.0%})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1_000_000, help="users on S")
    stack_arguments(parser)
    args = parser.parse_args()
    stack = stack_use(args)
    from harness.cluster import Cluster

    folder = Path(tempfile.mkdtemp(prefix="mooxsync-bench-fill-"))
    env = {"SYNC_LOG_LEVEL": "WARNING"}
    cluster = Cluster(
        folder, [SOURCE, TARGET], SYNCS, extra_env=env, redis_first=4
    ).start()
    meter = Proxy(cluster[TARGET].spec.port)
    print(f"Initial fill of {args.n} users S -> T, {stack}")
    try:
        cluster[SOURCE].call("bench.agent.target_point", f"127.0.0.1:{meter.port}")
        seeded = cluster[SOURCE].call("bench.agent.users_seed", args.n)
        print(f"  seeded S in {seeded['seconds']:.1f} s")
        baseline = cluster[TARGET].call("bench.agent.users_count")["users"]
        filled = fill(cluster, meter, args.n + baseline)
        backed = backup(cluster, meter, args.n)
        report(args.n, filled, backed)
    finally:
        meter.close()
        cluster.stop()


if __name__ == "__main__":
    main()
