"""Fault injection: real platforms, a mixed workload, and faults while it runs.

Platform A (source) and B (target, reached through a fault-injecting proxy),
each with its gunicorn and Celery worker (with beat, so the relay runs). In
every scenario a workload of at least 5,000 mixed changes (creates, updates,
deletes, group edits) runs on A while one fault hits; after recovery B must
equal A exactly. The suite prints a table: scenario, changes, lost,
duplicated, seconds to converge (also written to test-artifacts/).
"""

import os
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from demo.cluster import ROOT
from harness.cluster import Cluster
from harness.processes import free_port, wait_until
from harness.proxy import Proxy

pytestmark = [pytest.mark.e2e, pytest.mark.reliability]

CHANGES = int(os.environ.get("RELIABILITY_CHANGES", "5000"))
SYNCS = [
    {"source": "a", "source_model": m, "target": "b", "target_model": m}
    for m in ("auth.Group", "auth.User")
]
FAST_RECOVERY = {
    "SYNC_RELAY_FREQUENCY": "2",
    "SYNC_LEASE_SECONDS": "8",
    "SYNC_HTTP_TIMEOUT": "3",
    "SYNC_RETRY_BASE_SECONDS": "0.2",
    "SYNC_RETRY_MAX_SECONDS": "2",
    # Every fault here is transient: nothing may end up dead.
    "SYNC_MAX_ATTEMPTS": "100000",
    "SYNC_LOG_LEVEL": "WARNING",
}
WORKLOAD = "tests.reliability.workload."
RESULTS: list[dict] = []


class Broker:
    """The cluster's broker, which a scenario may stop and start again.

    With Redis (CELERY_BROKER_URL=redis://...) a private redis-server on a
    free port, so stopping it touches nothing else; with the filesystem
    transport, each platform's broker folder, taken away and put back.
    """

    def __init__(self, folder: Path) -> None:
        self.redis_port = None
        self.folder = folder
        if os.environ.get("CELERY_BROKER_URL", "").startswith("redis"):
            self.redis_port = free_port()
            self.start()
            os.environ["CELERY_BROKER_URL"] = f"redis://127.0.0.1:{self.redis_port}/0"

    def start(self) -> None:
        if self.redis_port is None:
            for moved in self.folder.glob("*/broker.away"):
                moved.rename(moved.with_name("broker"))
            return
        subprocess.run(
            [
                "redis-server",
                "--port",
                str(self.redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "yes",
                "--dir",
                str(self.folder),
                "--logfile",
                str(self.folder / "redis.log"),
            ],
            check=True,
        )
        wait_until(self._redis_up, timeout=20)

    def stop(self) -> None:
        if self.redis_port is None:
            for folder in self.folder.glob("*/broker"):
                folder.rename(folder.with_name("broker.away"))
            return
        subprocess.run(
            ["redis-cli", "-p", str(self.redis_port), "shutdown", "nosave"],
            capture_output=True,
        )

    def _redis_up(self) -> bool:
        answer = subprocess.run(
            ["redis-cli", "-p", str(self.redis_port), "ping"],
            capture_output=True,
            text=True,
        )
        return answer.stdout.strip() == "PONG"


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    folder = tmp_path_factory.mktemp("faults")
    saved = os.environ.get("CELERY_BROKER_URL")
    broker = Broker(folder)
    cluster = Cluster(folder, ["a", "b"], SYNCS, FAST_RECOVERY, redis_first=0)
    target = cluster["b"].spec
    target.listen_port = free_port()
    proxy = Proxy(target.listen_port, port=target.port)
    cluster.start()
    yield cluster, proxy, broker
    cluster.stop()
    proxy.close()
    broker.stop()
    if saved is None:
        os.environ.pop("CELERY_BROKER_URL", None)
    else:
        os.environ["CELERY_BROKER_URL"] = saved
    _table_print()


def _sigkill(process) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _target_web_killed(cluster, proxy, broker):
    _sigkill(cluster["b"].web)
    time.sleep(5)
    cluster["b"].web_start()


def _worker_killed(key):
    def inject(cluster, proxy, broker):
        _sigkill(cluster[key].worker)
        time.sleep(3)
        cluster[key].worker_start()

    return inject


def _broker_restarted(cluster, proxy, broker):
    broker.stop()
    time.sleep(6)
    broker.start()
    # A worker that lost its broker may exit, sometimes seconds later (kombu's
    # Redis transport can fail restoring unacknowledged messages and shut the
    # worker down): _supervise starts it again, as compose's restart policy.


def _network(mode, delay=0.0, seconds=6.0):
    def inject(cluster, proxy, broker):
        proxy.set(mode, delay)
        time.sleep(seconds)
        proxy.set("pass")

    return inject


SCENARIOS = {
    "target web killed and restarted": _target_web_killed,
    "source worker SIGKILLed mid-batch": _worker_killed("a"),
    "target worker SIGKILLed mid-batch": _worker_killed("b"),
    "broker stopped and restarted": _broker_restarted,
    "connections refused": _network("refuse"),
    "responses delayed": _network("delay", 1.0),
    "connections cut mid-response": _network("cut"),
    "slow target (near the timeout)": _network("delay", 2.8, seconds=10),
}


def _agent(platform, function: str, *args):
    """Call a function of workload.py inside ``platform``."""
    return platform.call(WORKLOAD + function, *args, timeout=900)


def _pending(cluster) -> int:
    a = cluster["a"].python(
        "from syncs.models import OutboxEvent; import json; print(json.dumps("
        "OutboxEvent.objects.exclude(status='delivered').count()))"
    )
    b = cluster["b"].python(
        "from webhooks.models import InboxEvent; import json; print(json.dumps("
        "InboxEvent.objects.filter(status='pending').count()))"
    )
    return a + b


def _supervise(cluster, row: dict) -> None:
    """Start again any process that exited on its own, as a supervisor would.

    Scenarios that stop a process start it again themselves; a process found
    dead afterwards died of the fault, and production's supervisor (systemd,
    compose's restart policy) would start it again. The row counts them.
    """
    for key, platform in cluster.platforms.items():
        for kind in ("web", "worker"):
            process = getattr(platform, kind)
            if process is not None and process.poll() is not None:
                row["restarted"].append(f"{key} {kind}")
                getattr(platform, f"{kind}_start")()


def _converged(cluster, prefix, row) -> bool:
    _supervise(cluster, row)
    return _pending(cluster) == 0 and _agent(cluster["a"], "digest", prefix) == (
        _agent(cluster["b"], "digest", prefix)
    )


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_target_equals_source_after_the_fault(rig, scenario):
    cluster, proxy, broker = rig
    prefix = f"f{list(SCENARIOS).index(scenario)}_"
    row: dict = {"scenario": scenario, "counts": {}, "restarted": []}
    with ThreadPoolExecutor(max_workers=1) as pool:
        load = pool.submit(_agent, cluster["a"], "run", prefix, CHANGES, 0)
        time.sleep(4)  # the fault hits while the workload runs
        SCENARIOS[scenario](cluster, proxy, broker)
        # Raises here what failed in the workload's thread (a workload that
        # exits non-zero, a timeout), so the test fails with it.
        row["counts"] = load.result()
    done = time.monotonic()
    try:
        wait_until(lambda: _converged(cluster, prefix, row), timeout=300, every=2)
    finally:
        source = {row[0]: row for row in _agent(cluster["a"], "digest", prefix)}
        target = {row[0]: row for row in _agent(cluster["b"], "digest", prefix)}
        lost = sum(1 for name, row in source.items() if target.get(name) != row)
        duplicated = sum(1 for name in target if name not in source)
        RESULTS.append(row)
        row.update(
            lost=lost,
            duplicated=duplicated,
            seconds=round(time.monotonic() - done, 1),
        )
    dead = cluster["a"].python(
        "from syncs.models import OutboxEvent; import json; print(json.dumps("
        "OutboxEvent.objects.filter(status__in=['dead', 'failed']).count()))"
    )
    assert (lost, duplicated, dead) == (0, 0, 0)
    _workload_check(row["counts"], users=len(source))


FILL_RECORDS = int(os.environ.get("RELIABILITY_FILL_RECORDS", "6000"))


def _fill_moved(cluster, beyond: int) -> dict:
    """Wait until the fill delivered more than ``beyond``; it must still run."""

    def moved() -> dict | None:
        _supervise(cluster, {"restarted": []})
        state = _agent(cluster["a"], "fill")
        return state if state["delivered"] > beyond else None

    state = wait_until(moved, timeout=60)
    assert state["status"] == "running" and state["delivered"] < state["total"], (
        f"the fill ended before the next fault could hit it: {state}"
    )
    return state


def test_a_fill_goes_on_through_the_faults_and_sends_each_record_once(rig):
    """Worker killed, target refusing, broker restarted: the fill resumes."""
    cluster, proxy, broker = rig
    _agent(cluster["a"], "seed", "fill_", FILL_RECORDS)
    started = _agent(cluster["a"], "fill", True)
    # Each fault hits while the fill runs: after some records, before the end.
    moved = _fill_moved(cluster, 0)
    _worker_killed("a")(cluster, proxy, broker)
    moved = _fill_moved(cluster, moved["delivered"])
    _network("refuse", seconds=4)(cluster, proxy, broker)
    moved = _fill_moved(cluster, moved["delivered"])
    _broker_restarted(cluster, proxy, broker)

    def finished() -> dict | None:
        _supervise(cluster, {"restarted": []})
        state = _agent(cluster["a"], "fill")
        return state if state["status"] != "running" else None

    state = wait_until(finished, timeout=300, every=2)
    assert state["status"] == "done", state
    # Resumed, not started over: the same fill, each record's row written once.
    assert state["started_at"] == started["started_at"]
    assert state["queued"] == state["total"] == state["rows"], state
    assert state["total"] >= FILL_RECORDS
    wait_until(lambda: _pending(cluster) == 0, timeout=120, every=2)
    source = _agent(cluster["a"], "digest", "fill_")
    assert len(source) == FILL_RECORDS
    assert _agent(cluster["b"], "digest", "fill_") == source


def _workload_check(counts: dict, *, users: int) -> None:
    """Fail unless the workload made every change it claims, on A's own table."""
    assert sum(counts.values()) == CHANGES, counts
    assert counts["create"] - counts["delete"] == users, (counts, users)


def _table_print() -> None:
    lines = [
        "| scenario | changes | lost | duplicated | seconds to converge "
        "| restarted after it |",
        "|---|---|---|---|---|---|",
    ]
    for row in RESULTS:
        lines.append(
            f"| {row['scenario']} | {sum(row['counts'].values())} | {row['lost']} "
            f"| {row['duplicated']} | {row['seconds']} "
            f"| {', '.join(row['restarted']) or '-'} |"
        )
    table = "\n".join(lines)
    artifacts = ROOT / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    broker = "redis" if os.environ.get("CELERY_BROKER_URL") else "filesystem"
    (artifacts / f"reliability-{broker}.md").write_text(table + "\n")
    print("\n" + table)
