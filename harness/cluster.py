"""Platforms of this checkout, each a gunicorn web process and a Celery worker.

Laid out as ``make run`` lays them out (demo.cluster); each gets its own
database and broker: SQLite and the filesystem transport by default, or, when
the test process runs with a PostgreSQL or MySQL/MariaDB DATABASE_URL or a
Redis CELERY_BROKER_URL, its own database on that server and its own Redis
database number.
"""

import json
import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

import requests

from demo.cluster import (
    BIN,
    ROOT,
    PlatformSpec,
    env_file_write,
    fixture_write,
    manage,
    platform_prepare,
    seed_fixture,
)
from harness.databases import redis_database, server_database
from harness.processes import (
    free_port,
    process_env,
    process_spawn,
    processes_stop,
    wait_until,
    web_command,
    worker_command,
)

E2E_ENV = {
    # Retry fast so "target down, then back" converges within a test.
    "SYNC_RETRY_BASE_SECONDS": "0.2",
    "SYNC_RETRY_MAX_SECONDS": "2",
    "SYNC_REGISTRY_TTL": "0.5",
    # A target restarting under load may take a while: never give up on it.
    "SYNC_MAX_ATTEMPTS": "1000",
    "DEBUG": "false",
}


class PlatformProcess:
    """One platform: its env, its web process and its worker."""

    def __init__(self, spec: PlatformSpec, env: dict[str, str]) -> None:
        self.spec = spec
        self.env = env
        self.web: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None
        self.logs = spec.folder / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return self.spec.url

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        log = self.logs / f"{name}.log"
        return process_spawn(args, cwd=ROOT, env=self.env, log=log)

    def web_start(self) -> None:
        options = ["--workers", "2", "--timeout", "60"]
        web = web_command(BIN, "mooxsync", self.spec.bind, *options)
        self.web = self._spawn("web", web)
        wait_until(self._healthy, timeout=60)

    def worker_start(self) -> None:
        worker = worker_command(BIN, "mooxsync", self.spec.key, self.spec.folder)
        self.worker = self._spawn("worker", worker)

    def _healthy(self) -> bool:
        try:
            health = f"http://{self.spec.bind}/health/"
            return requests.get(health, timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def web_stop(self) -> None:
        processes_stop(self.web)
        self.web = None

    def worker_stop(self) -> None:
        processes_stop(self.worker)
        self.worker = None

    def stop(self) -> None:
        processes_stop(self.web, self.worker)
        self.web = self.worker = None

    def python_run(
        self, code: str, timeout: float | None = 120
    ) -> subprocess.CompletedProcess:
        """Run Python in this platform's Django; return the process however it ended.

        For code that may kill its own process on purpose (crash-safety tests).
        """
        shell = [str(BIN / "python"), str(ROOT / "manage.py"), "shell", "--no-imports"]
        return subprocess.run(
            [*shell, "-c", code],
            cwd=ROOT,
            env=process_env(self.env),
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def python(self, code: str, timeout: float | None = 120) -> object:
        """Run Python in this platform's Django; return what it prints as JSON."""
        result = self.python_run(code, timeout)
        if result.returncode:
            raise AssertionError(f"{self.spec.key}: {result.stderr[-3000:]}")
        lines = result.stdout.strip().splitlines()
        return json.loads(lines[-1]) if lines else None

    def call(self, function: str, *args: object, timeout: float | None = None):
        """Call ``function`` ("package.module.name") in this platform's Django.

        Arguments and result travel as JSON; the benchmarks' and the fault
        suite's work inside a platform (bench/agent.py,
        tests/reliability/workload.py) runs this way.
        """
        module, name = function.rsplit(".", 1)
        code = (
            f"import json\nfrom {module} import {name}\n"
            f"print(json.dumps({name}(*json.loads({json.dumps(args)!r}))))"
        )
        return self.python(code, timeout)

    def manage(self, *args: str) -> subprocess.CompletedProcess:
        """Run a manage.py command with this platform's env; never raise on failure."""
        return manage(self.env, *args, check=False, timeout=120)

    def log_text(self) -> str:
        return "".join(p.read_text(errors="replace") for p in self.logs.glob("*.log"))


def platform_install_alone(spec_env: dict[str, str]) -> None:
    """Install a platform that knows nothing of its cluster: only its own row.

    What an operator does on a new platform before it joins: set
    SYNC_PLATFORM_DOMAIN and the cluster's SYNC_TOKEN, run mooxsync_install.
    """
    manage(spec_env, "mooxsync_install", "--scheme", "http", "--noinput")


class Cluster:
    """Several platforms seeded with each other's rows and the given syncs.

    Platforms named in ``joining`` are not seeded: each is installed alone
    (platform_install_alone) and learns about the cluster only by joining it.
    ``redis_first`` is the Redis database number of the first platform, so
    clusters of different test modules can run side by side.
    """

    def __init__(
        self,
        folder: Path,
        keys: list[str],
        syncs: list[dict],
        extra_env=None,
        *,
        joining: Sequence[str] = (),
        redis_first: int = 10,
    ):
        database_url = os.environ.get("DATABASE_URL", "")
        broker_url = os.environ.get("CELERY_BROKER_URL", "")
        self.specs = []
        for index, key in enumerate([*keys, *joining]):
            self.specs.append(
                PlatformSpec(
                    key=key,
                    name=f"Platform {key.upper()}",
                    port=free_port(),
                    folder=folder / key,
                    master=index == 0,
                    database_url=server_database(
                        database_url, f"mooxsync_e2e_{key}", BIN / "python"
                    ),
                    broker_url=redis_database(broker_url, redis_first + index),
                    extra_env=E2E_ENV | (extra_env or {}),
                )
            )
        self.seeded = [spec for spec in self.specs if spec.key not in joining]
        self.fixture = seed_fixture(self.seeded, syncs)
        fixture_path = folder / "seed.json"
        folder.mkdir(parents=True, exist_ok=True)
        fixture_write(fixture_path, self.fixture)
        self.platforms: dict[str, PlatformProcess] = {}
        for spec in self.specs:
            spec.folder.mkdir(parents=True, exist_ok=True)
            env = spec.env()
            env_file_write(folder / f"{spec.key}.env", env)
            if spec.key in joining:
                platform_install_alone(env)
            else:
                platform_prepare(env, fixture_path)
            self.platforms[spec.key] = PlatformProcess(spec, env)

    def __getitem__(self, key: str) -> PlatformProcess:
        return self.platforms[key]

    def private_key_of(self, key: str) -> str:
        """Return the private key seeded for platform ``key`` (only it holds it)."""
        pk = [s.key for s in self.seeded].index(key) + 1
        return next(
            row["fields"]["private_key"]
            for row in self.fixture
            if row["model"] == "platforms.platformkey"
            and row["fields"]["platform"] == pk
        )

    def start(self) -> "Cluster":
        for platform in self.platforms.values():
            platform.worker_start()
            platform.web_start()
        return self

    def stop(self) -> None:
        processes = [
            process
            for platform in self.platforms.values()
            for process in (platform.web, platform.worker)
        ]
        processes_stop(*processes)
        for platform in self.platforms.values():
            platform.web = platform.worker = None
