"""Lay out and prepare local platforms: env files, databases, seed data.

Shared by ``make run`` (the two-platform demo) and the end-to-end test harness,
so both start platforms exactly the same way.
"""

import json
import os
import secrets
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from platforms.credentials import api_token_generate
from platforms.signing import key_pair_generate

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@dataclass
class PlatformSpec:
    """One local platform: its name, port and folder, and the env it runs with."""

    key: str
    name: str
    port: int
    folder: Path
    master: bool = False
    database_url: str | None = None
    broker_url: str | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    # Where the web server listens when something (a proxy) stands at ``port``.
    listen_port: int | None = None

    @property
    def domain(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def bind(self) -> str:
        """Return the address the web server listens on."""
        return f"127.0.0.1:{self.listen_port or self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.domain}"

    def env(self) -> dict[str, str]:
        """Return the settings this platform's processes run with."""
        values = {
            "DEBUG": "true",
            "SECRET_KEY": f"local-only-{self.key}-{secrets.token_hex(16)}",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SYNC_PLATFORM_DOMAIN": self.domain,
            "MOOXSYNC_VAR_DIR": str(self.folder),
            "DATABASE_URL": self.database_url
            or f"sqlite:///{self.folder / 'db.sqlite3'}",
            "CELERY_BROKER_URL": self.broker_url or "filesystem://localhost//",
            "CELERY_BROKER_FOLDER": str(self.folder / "broker"),
            "SYNC_LOG_LEVEL": "INFO",
            # The example app with documents (file sync) is the demo's content.
            "MOOXSYNC_DEMO": "true",
        }
        return values | self.extra_env


def env_file_write(path: Path, values: dict[str, str]) -> None:
    """Write shell-sourceable KEY=value lines (what `set -a; . file` reads)."""
    lines = [f"{key}={_shell_quote(value)}" for key, value in values.items()]
    path.write_text("\n".join(lines) + "\n")


def env_file_read(path: Path) -> dict[str, str]:
    """Read an env file written by env_file_write."""
    values = {}
    for line in path.read_text().splitlines():
        key, _, value = line.partition("=")
        values[key] = value[1:-1].replace("'\\''", "'") if value[:1] == "'" else value
    return values


def _shell_quote(value: str) -> str:
    if value and all(c.isalnum() or c in "-_./:,@+=" for c in value):
        return value
    return "'" + value.replace("'", "'\\''") + "'"


def seed_fixture(specs: list[PlatformSpec], syncs: list[dict]) -> list[dict]:
    """Return a loaddata fixture with every platform, its key and the given syncs.

    Every platform's private key is in it: platform_prepare loads each
    platform's share, its own private key and the others' public keys.

    A sync is ``{"source", "source_model", "target", "target_model"}``, with
    ``"field_mappings"`` (source field -> target field) where it names some,
    such as the privileged fields it writes (SYNC_PRIVILEGED_FIELDS).
    """
    rows = []
    for pk, spec in enumerate(specs, start=1):
        rows.append(
            {
                "model": "platforms.platform",
                "pk": pk,
                "fields": {
                    "uuid": str(uuid.uuid4()),
                    "name": spec.name,
                    "domain": spec.domain,
                    "scheme": "http",
                    "api_token": api_token_generate(),
                    "signing_secret": "",
                    "master": spec.master,
                    "locked": False,
                    "lock_reason": "",
                    "show_in_menu": True,
                    "order": pk,
                    "created_at": "2026-01-01T00:00:00Z",
                    "updated_at": "2026-01-01T00:00:00Z",
                },
            }
        )
    for pk, _spec in enumerate(specs, start=1):
        private_key, public_key = key_pair_generate()
        fields = {
            "platform": pk,
            "public_key": public_key,
            "private_key": private_key,
            "created_at": "2026-01-01T00:00:00Z",
        }
        rows.append({"model": "platforms.platformkey", "pk": pk, "fields": fields})
    index = {spec.key: pk for pk, spec in enumerate(specs, start=1)}
    for pk, sync in enumerate(syncs, start=1):
        fields = {
            "uuid": str(uuid.uuid4()),
            "status": True,
            "title": "",
            "source_platform": index[sync["source"]],
            "source_model": sync["source_model"],
            "target_platform": index[sync["target"]],
            "target_model": sync["target_model"],
            "field_mappings": sync.get("field_mappings", {}),
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
        }
        rows.append({"model": "syncs.sync", "pk": pk, "fields": fields})
    return rows


def manage(
    spec_env: dict[str, str], *args: str, **kwargs
) -> subprocess.CompletedProcess:
    """Run a manage.py command with a platform's env."""
    return subprocess.run(
        [str(BIN / "python"), str(ROOT / "manage.py"), *args],
        env=_process_env(spec_env),
        cwd=ROOT,
        check=kwargs.pop("check", True),
        capture_output=kwargs.pop("capture_output", True),
        text=True,
        **kwargs,
    )


def _process_env(values: dict[str, str]) -> dict[str, str]:
    keep = {
        k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TMPDIR")
    }
    return keep | values


def fixture_of(rows: list[dict], domain: str) -> list[dict]:
    """Return the seed as the platform ``domain`` holds it: no other's private key."""
    own = next(
        row["pk"]
        for row in rows
        if row["model"] == "platforms.platform" and row["fields"]["domain"] == domain
    )
    return [
        row
        if row["model"] != "platforms.platformkey" or row["fields"]["platform"] == own
        else row | {"fields": row["fields"] | {"private_key": ""}}
        for row in rows
    ]


def platform_prepare(spec_env: dict[str, str], fixture_path: Path) -> None:
    """Migrate a platform's database, load its share of the seed, add admin/admin."""
    manage(spec_env, "migrate", "--noinput", "-v", "0")
    rows = fixture_of(
        json.loads(fixture_path.read_text()), spec_env["SYNC_PLATFORM_DOMAIN"]
    )
    own_path = Path(spec_env["MOOXSYNC_VAR_DIR"]) / "seed.json"
    fixture_write(own_path, rows)
    manage(spec_env, "loaddata", str(own_path), "-v", "0")
    manage(
        spec_env | {"DJANGO_SUPERUSER_PASSWORD": "admin"},
        "createsuperuser",
        "--noinput",
        "--username",
        "admin",
        "--email",
        "admin@example.com",
    )


def fixture_write(path: Path, rows: list[dict]) -> None:
    """Write a seed fixture as JSON."""
    path.write_text(json.dumps(rows, indent=1))
