"""Start real platform processes (gunicorn web + Celery worker each) for e2e tests.

Every end-to-end test goes through this module. Platforms are laid out as
``make run`` lays them out (demo.cluster); each gets its own database and
broker: SQLite and the filesystem transport by default, or, when the test
process runs with a PostgreSQL or MySQL/MariaDB DATABASE_URL or a Redis
CELERY_BROKER_URL, its own database on that server and its own Redis database
number.
"""

import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from contextlib import closing, suppress
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

E2E_ENV = {
    # Retry fast so "target down, then back" converges within a test.
    "SYNC_RETRY_BASE_SECONDS": "0.2",
    "SYNC_RETRY_MAX_SECONDS": "2",
    "SYNC_REGISTRY_TTL": "0.5",
    # A target restarting under load may take a while: never give up on it.
    "SYNC_MAX_ATTEMPTS": "1000",
    "DEBUG": "false",
}


def free_port() -> int:
    """Return a TCP port nobody listens on right now."""
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check: Callable[[], object], timeout: float = 30, every: float = 0.2):
    """Call ``check`` until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(every)
    raise AssertionError(f"Timed out after {timeout}s; last value: {last!r}")


def _postgres_database(base_url: str, name: str) -> str:
    """Create a fresh PostgreSQL database beside ``base_url``'s; return its URL."""
    import psycopg

    with psycopg.connect(
        base_url.replace("postgres://", "postgresql://"), autocommit=True
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return base_url.rsplit("/", 1)[0] + "/" + name


def _platform_database(base_url: str, name: str) -> str | None:
    """Return a fresh server database for a platform; None means SQLite."""
    if base_url.startswith("postgres"):
        return _postgres_database(base_url, name)
    if base_url.startswith("mysql"):
        return _mysql_database(base_url, name, BIN / "python")
    return None


def _redis_database(base_url: str, number: int) -> str:
    """Empty Redis database ``number`` beside ``base_url``'s; return its URL."""
    import redis

    url = base_url.rsplit("/", 1)[0] + f"/{number}"
    redis.Redis.from_url(url).flushdb()
    return url


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
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115  (closed with the process)
        return subprocess.Popen(
            args,
            cwd=ROOT,
            env=_process_env(self.env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def web_start(self) -> None:
        self.web = self._spawn(
            "web",
            [
                str(BIN / "gunicorn"),
                "mooxsync.wsgi",
                "--bind",
                self.spec.bind,
                "--workers",
                "2",
                "--threads",
                "4",
                "--timeout",
                "60",
            ],
        )
        wait_until(self._healthy, timeout=60)

    def worker_start(self) -> None:
        self.worker = self._spawn(
            "worker",
            [
                str(BIN / "celery"),
                "-A",
                "mooxsync",
                "worker",
                "-B",
                "--loglevel",
                "INFO",
                "--concurrency",
                "2",
                "--hostname",
                f"{self.spec.key}@%h",
                "--schedule",
                str(self.spec.folder / "celerybeat-schedule"),
            ],
        )

    def _healthy(self) -> bool:
        try:
            health = f"http://{self.spec.bind}/health/"
            return requests.get(health, timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def web_stop(self) -> None:
        _stop(self.web)
        self.web = None

    def worker_stop(self) -> None:
        _stop(self.worker)
        self.worker = None

    def stop(self) -> None:
        _stop(self.web, self.worker)
        self.web = self.worker = None

    def python_run(self, code: str) -> subprocess.CompletedProcess:
        """Run Python in this platform's Django; return the process however it ended.

        For code that may kill its own process on purpose (crash-safety tests).
        """
        shell = [str(BIN / "python"), str(ROOT / "manage.py"), "shell", "--no-imports"]
        return subprocess.run(
            [*shell, "-c", code],
            cwd=ROOT,
            env=_process_env(self.env),
            capture_output=True,
            text=True,
            timeout=120,
        )

    def python(self, code: str) -> object:
        """Run Python in this platform's Django; return what it prints as JSON."""
        result = self.python_run(code)
        if result.returncode:
            raise AssertionError(f"{self.spec.key}: {result.stderr[-3000:]}")
        lines = result.stdout.strip().splitlines()
        return json.loads(lines[-1]) if lines else None

    def manage(self, *args: str) -> subprocess.CompletedProcess:
        """Run a manage.py command with this platform's env; never raise on failure."""
        return manage(self.env, *args, check=False, timeout=120)

    def log_text(self) -> str:
        return "".join(p.read_text(errors="replace") for p in self.logs.glob("*.log"))


# Seconds a process has to shut down on SIGTERM before its group is killed.
STOP_SECONDS = 10


def _stop(*processes: subprocess.Popen | None) -> None:
    """Stop processes together; return once every one of them is gone.

    SIGTERM goes to each main process, which shuts its children down (a
    Celery worker sent SIGTERM across its group hangs until killed); whatever
    is left of a group after STOP_SECONDS, or after its main process, is killed.
    """
    running = [p for p in processes if p is not None and p.poll() is None]
    for process in running:
        process.terminate()
    deadline = time.monotonic() + STOP_SECONDS
    for process in running:
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _process_env(values: dict[str, str]) -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "TMPDIR")
    return {k: v for k, v in os.environ.items() if k in keep} | values


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
                    database_url=_platform_database(
                        database_url, f"mooxsync_e2e_{key}"
                    ),
                    broker_url=_redis_database(broker_url, redis_first + index)
                    if broker_url.startswith("redis")
                    else None,
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
        _stop(*processes)
        for platform in self.platforms.values():
            platform.web = platform.worker = None


# --- Sites that install Moox Sync from its wheel (examples/shop) -------------

SHOP_SOURCE = ROOT / "examples" / "shop"
# What a checkout holds that a wheel is not built from.
_NOT_SOURCE = (".*", "var", "build", "*.egg-info", "__pycache__", "test-artifacts")


def wait_for(what: str, check: Callable[[], object], timeout: float = 30):
    """Return ``check``'s first truthy value; fail saying ``what`` did not happen."""
    try:
        return wait_until(check, timeout=timeout)
    except AssertionError as exc:
        raise AssertionError(f"Expected {what}, but: {exc}") from None


def wheel_build(folder: Path) -> Path:
    """Build the package's wheel from a copy of the checkout; return its path.

    A copy, because setuptools writes build/ and *.egg-info beside the sources,
    which others building in the same checkout would share.
    """
    import shutil

    source = folder / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*_NOT_SOURCE))
    _run_checked(
        [str(BIN / "pip"), "wheel", "--no-deps", "-q", "-w", str(folder), str(source)]
    )
    return next(folder.glob("mooxsync-*.whl"))


def site_venv(folder: Path, *requirements: str) -> Path:
    """Create a virtualenv with the lock's pins and ``requirements``; return bin/."""
    _run_checked([str(BIN / "python"), "-m", "venv", str(folder)])
    pip = str(folder / "bin" / "pip")
    lock = str(ROOT / "requirements.lock")
    # Byte-compiling all of site-packages takes longer than the test's imports.
    install = [pip, "install", "-q", "--no-compile", "-c", lock]
    _run_checked([*install, *requirements], timeout=600)
    return folder / "bin"


def _run_checked(args: list[str], timeout: float = 300) -> None:
    result = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    if result.returncode:
        raise AssertionError(
            f"{' '.join(args)} failed ({result.returncode}):\n{result.stderr[-3000:]}"
        )


def site_drivers() -> list[str]:
    """Return the drivers a site's virtualenv needs for the test's servers."""
    database = os.environ.get("DATABASE_URL", "")
    drivers = {"mysql": ["mysqlclient"], "postgres": ["psycopg[binary]"]}
    needed = [pip for scheme, pip in drivers.items() if database.startswith(scheme)]
    if os.environ.get("CELERY_BROKER_URL", "").startswith("redis"):
        needed.append(["celery[redis]"])
    return [name for names in needed for name in names]


def site_broker_url(number: int) -> str | None:
    """Return Redis database ``number``, emptied, if the test runs on Redis."""
    broker = os.environ.get("CELERY_BROKER_URL", "")
    return _redis_database(broker, number) if broker.startswith("redis") else None


def site_database_url(name: str, folder: Path, python: Path) -> str:
    """Return a fresh database for one site, of the kind DATABASE_URL names.

    SQLite in ``folder`` by default; with a mysql:// or postgres:// URL in the
    test process's environment, a new database ``name`` on that server.
    """
    base = os.environ.get("DATABASE_URL", "")
    if base.startswith("mysql"):
        return _mysql_database(base, name, python)
    if base.startswith("postgres"):
        return _postgres_database(base, name)
    return f"sqlite:///{folder / 'db.sqlite3'}"


def _mysql_database(base_url: str, name: str, python: Path) -> str:
    """Create a fresh MySQL/MariaDB database beside ``base_url``'s; return its URL.

    Through ``python``'s mysqlclient: the site's virtualenv has it, the test
    process need not.
    """
    from urllib.parse import unquote, urlsplit, urlunsplit

    url = urlsplit(base_url)
    connect = {
        "host": url.hostname or "127.0.0.1",
        "port": url.port or 3306,
        "user": unquote(url.username or "root"),
        "password": unquote(url.password or ""),
    }
    code = (
        "import json, sys, MySQLdb; "
        "c = MySQLdb.connect(**json.loads(sys.argv[1])).cursor(); "
        f"c.execute('DROP DATABASE IF EXISTS `{name}`'); "
        f"c.execute('CREATE DATABASE `{name}` CHARACTER SET utf8mb4 "
        "COLLATE utf8mb4_bin')"
    )
    _run_checked([str(python), "-c", code, json.dumps(connect)])
    return urlunsplit(url._replace(path=f"/{name}"))


class SiteProcess:
    """One Django site run from its own virtualenv: gunicorn web + Celery worker.

    ``project`` holds its manage.py and the ``module`` package with wsgi.py and
    the Celery app; ``folder`` gets its logs. Add what the site reads from the
    environment to ``env``, which starts with SYNC_PLATFORM_DOMAIN (its port).
    """

    def __init__(
        self, key: str, project: Path, bin_dir: Path, module: str, folder: Path
    ) -> None:
        self.key, self.project, self.bin, self.module = key, project, bin_dir, module
        self.folder = folder
        self.port = free_port()
        self.env = {"SYNC_PLATFORM_DOMAIN": self.domain}
        self.logs = folder / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.web: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None
        self.shell: subprocess.Popen | None = None

    @property
    def domain(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.domain}"

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115  (closed with the process)
        return subprocess.Popen(
            args,
            cwd=self.project,
            env=_process_env(self.env),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start(self) -> "SiteProcess":
        self.worker_start()
        self.web_start()
        return self

    def worker_start(self) -> None:
        self.worker = self._spawn(
            "worker",
            [
                str(self.bin / "celery"),
                "-A",
                self.module,
                "worker",
                "-B",
                "--loglevel",
                "INFO",
                "--concurrency",
                "2",
                "--hostname",
                f"{self.key}@%h",
                "--schedule",
                str(self.folder / "celerybeat-schedule"),
            ],
        )

    def web_start(self) -> None:
        self.web = self._spawn(
            "web",
            [
                str(self.bin / "gunicorn"),
                f"{self.module}.wsgi",
                "--bind",
                self.domain,
                "--workers",
                "1",
                "--threads",
                "4",
            ],
        )
        wait_for(f"{self.key}'s web server to answer", self._ready, timeout=60)

    def _ready(self) -> bool:
        for name, process in (("web", self.web), ("worker", self.worker)):
            if process is not None and process.poll() is not None:
                raise AssertionError(f"{self.key}'s {name} exited: {self.log_text()}")
        try:
            return requests.get(self.url + "/admin/login/", timeout=2).ok
        except requests.RequestException:
            return False

    def web_stop(self) -> None:
        _stop(self.web)
        self.web = None

    def stop(self) -> None:
        _stop(self.web, self.worker)
        self.web = None
        if self.shell is not None:
            self.shell.stdin.close()
            self.shell.wait(timeout=15)
        self.worker = self.shell = None

    def manage(self, *args: str, **env: str) -> str:
        """Run a manage.py command; return its output, fail with its errors."""
        result = subprocess.run(
            [str(self.bin / "python"), "manage.py", *args],
            cwd=self.project,
            env=_process_env(self.env | env),
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode:
            raise AssertionError(
                f"{self.key}: manage.py {' '.join(args)} failed "
                f"({result.returncode}):\n{result.stdout[-2000:]}{result.stderr[-3000:]}"
            )
        return result.stdout

    def python(self, code: str, timeout: float = 60) -> object:
        """Run Python in the site's Django shell; return what it prints as JSON.

        One ``manage.py shell`` per site runs every snippet, so that polling
        for a record costs a query rather than a Django start-up.
        """
        import select

        if self.shell is None or self.shell.poll() is not None:
            self.shell = self._spawn_shell()
        self.shell.stdin.write(json.dumps(code) + "\n")
        self.shell.stdin.flush()
        if not select.select([self.shell.stdout], [], [], timeout)[0]:
            raise AssertionError(f"{self.key}'s shell did not answer in {timeout}s")
        line = self.shell.stdout.readline()
        if not line:
            raise AssertionError(f"{self.key}'s shell exited: {self.log_text()}")
        reply = json.loads(line)
        if "error" in reply:
            raise AssertionError(f"{self.key}: {reply['error']}")
        lines = reply["out"].strip().splitlines()
        return json.loads(lines[-1]) if lines else None

    def _spawn_shell(self) -> subprocess.Popen:
        log = open(self.logs / "shell.log", "ab")  # noqa: SIM115  (closed with the process)
        shell = ["manage.py", "shell", "--no-imports", "-c", _SHELL_LOOP]
        return subprocess.Popen(
            [str(self.bin / "python"), *shell],
            cwd=self.project,
            env=_process_env(self.env),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )

    def log_text(self) -> str:
        return "".join(
            f"\n--- {self.key} {path.name} ---\n" + path.read_text(errors="replace")
            for path in sorted(self.logs.glob("*.log"))
        )


# Runs each JSON-encoded snippet read from stdin, answers {"out"} or {"error"}.
_SHELL_LOOP = """
import contextlib, io, json, sys, traceback
for line in sys.stdin:
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            exec(json.loads(line), {})
        reply = {"out": out.getvalue()}
    except Exception:
        reply = {"error": traceback.format_exc()}
    sys.__stdout__.write(json.dumps(reply) + "\\n")
    sys.__stdout__.flush()
"""
