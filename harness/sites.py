"""Django sites that install Moox Sync from its wheel (examples/shop).

Each runs from a virtualenv of its own, with its own database and broker of
the test's kind (harness.databases).
"""

import json
import os
import subprocess
from pathlib import Path

import requests

from demo.cluster import BIN, ROOT
from harness.databases import redis_database, server_database
from harness.processes import (
    free_port,
    process_env,
    process_spawn,
    processes_stop,
    run_checked,
    wait_for,
    web_command,
    worker_command,
)

SHOP_SOURCE = ROOT / "examples" / "shop"
# What a checkout holds that a wheel is not built from.
_NOT_SOURCE = (".*", "var", "build", "*.egg-info", "__pycache__", "test-artifacts")


def wheel_build(folder: Path) -> Path:
    """Build the package's wheel from a copy of the checkout; return its path.

    A copy, because setuptools writes build/ and *.egg-info beside the sources,
    which others building in the same checkout would share.
    """
    import shutil

    source = folder / "source"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*_NOT_SOURCE))
    run_checked(
        [str(BIN / "pip"), "wheel", "--no-deps", "-q", "-w", str(folder), str(source)]
    )
    return next(folder.glob("mooxsync-*.whl"))


def site_venv(folder: Path, *requirements: str) -> Path:
    """Create a virtualenv with the lock's pins and ``requirements``; return bin/."""
    run_checked([str(BIN / "python"), "-m", "venv", str(folder)])
    pip = str(folder / "bin" / "pip")
    lock = str(ROOT / "requirements.lock")
    # Byte-compiling all of site-packages takes longer than the test's imports.
    install = [pip, "install", "-q", "--no-compile", "-c", lock]
    run_checked([*install, *requirements], timeout=600)
    return folder / "bin"


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
    return redis_database(os.environ.get("CELERY_BROKER_URL", ""), number)


def site_database_url(name: str, folder: Path, python: Path) -> str:
    """Return a fresh database for one site, of the kind DATABASE_URL names.

    SQLite in ``folder`` by default; with a mysql:// or postgres:// URL in the
    test process's environment, a new database ``name`` on that server.
    """
    base = os.environ.get("DATABASE_URL", "")
    return server_database(base, name, python) or f"sqlite:///{folder / 'db.sqlite3'}"


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
        log = self.logs / f"{name}.log"
        return process_spawn(args, cwd=self.project, env=self.env, log=log)

    def start(self) -> "SiteProcess":
        self.worker_start()
        self.web_start()
        return self

    def worker_start(self) -> None:
        worker = worker_command(self.bin, self.module, self.key, self.folder)
        self.worker = self._spawn("worker", worker)

    def web_start(self) -> None:
        web = web_command(self.bin, self.module, self.domain, "--workers", "1")
        self.web = self._spawn("web", web)
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
        processes_stop(self.web)
        self.web = None

    def stop(self) -> None:
        processes_stop(self.web, self.worker)
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
            env=process_env(self.env | env),
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
            env=process_env(self.env),
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
