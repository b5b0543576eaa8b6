"""`make run`: a two-platform cluster on the embedded defaults.

Platform A (master) at http://127.0.0.1:8001 and platform B at
http://127.0.0.1:8002, each with its own SQLite database and filesystem broker
under var/demo/, its web process and its Celery worker (with beat), run
together by honcho. Syncs of auth.Group, auth.User and demoapp.Document
(with its files) from A to B are seeded on both.
"""

import os
import sys

from demo.cluster import (
    BIN,
    ROOT,
    PlatformSpec,
    env_file_read,
    env_file_write,
    fixture_write,
    platform_prepare,
    seed_fixture,
)

DEMO_DIR = ROOT / "var" / "demo"
FILES = {"FILE_SYNC_ENABLED": "true"}
SPECS = [
    PlatformSpec(
        key="a",
        name="Platform A",
        port=8001,
        folder=DEMO_DIR / "a",
        master=True,
        extra_env=FILES,
    ),
    PlatformSpec(
        key="b", name="Platform B", port=8002, folder=DEMO_DIR / "b", extra_env=FILES
    ),
]
# A user made staff on A signs in to B's admin with the same password and
# permissions: the syncs name those privileged fields (SYNC_PRIVILEGED_FIELDS).
PRIVILEGED = {
    "auth.Group": ["permissions"],
    "auth.User": ["password", "is_staff", "is_superuser", "user_permissions"],
    "demoapp.Document": [],
}
SYNCS = [
    {
        "source": "a",
        "source_model": model,
        "target": "b",
        "target_model": model,
        "field_mappings": {name: name for name in names},
    }
    for model, names in PRIVILEGED.items()
]


def demo_prepare() -> dict[str, dict[str, str]]:
    """Create var/demo once: env files, databases, seed; reuse it afterwards."""
    envs = {}
    fresh = not all((DEMO_DIR / f"{spec.key}.env").exists() for spec in SPECS)
    if fresh:
        DEMO_DIR.mkdir(parents=True, exist_ok=True)
        fixture = DEMO_DIR / "seed.json"
        fixture_write(fixture, seed_fixture(SPECS, SYNCS))
    for spec in SPECS:
        env_path = DEMO_DIR / f"{spec.key}.env"
        if fresh:
            spec.folder.mkdir(parents=True, exist_ok=True)
            env_file_write(env_path, spec.env())
            print(f"Preparing {spec.name} ({spec.url}) ...", flush=True)
            platform_prepare(env_file_read(env_path), fixture)
        envs[spec.key] = env_file_read(env_path)
    if fresh:
        fixture.unlink()  # every platform's private key: each has its own now
    return envs


def procfile_write() -> str:
    """Write the Procfile honcho runs: a web process and a worker per platform."""
    lines = []
    for spec in SPECS:
        source = f"set -a; . {DEMO_DIR / (spec.key + '.env')}; set +a;"
        lines.append(
            f"{spec.key}_web: {source} exec {BIN / 'python'} manage.py runserver "
            f"--noreload {spec.domain}"
        )
        lines.append(
            f"{spec.key}_worker: {source} exec {BIN / 'celery'} -A mooxsync worker -B "
            f"--loglevel INFO --concurrency 2 --hostname {spec.key}@%h "
            f"--schedule {spec.folder / 'celerybeat-schedule'}"
        )
    path = DEMO_DIR / "Procfile"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def main() -> None:
    os.chdir(ROOT)
    demo_prepare()
    procfile = procfile_write()
    print(
        "\nMoox Sync demo\n"
        "  Platform A (master): http://127.0.0.1:8001/admin/  admin / admin\n"
        "  Platform B:          http://127.0.0.1:8002/admin/  admin / admin\n"
        "  Syncs A -> B: auth.Group, auth.User, demoapp.Document (with files)\n"
        "  Create a user in A's admin, then log in to B's admin with it.\n"
        "  Run commands against a platform: set -a; . var/demo/a.env; set +a; "
        ".venv/bin/python manage.py ...\n"
        "  Ctrl-C stops everything; `rm -r var/demo` starts afresh.\n",
        flush=True,
    )
    honcho = [str(BIN / "honcho"), "start", "-f", procfile, "-d", str(ROOT)]
    os.execv(honcho[0], honcho)


if __name__ == "__main__":
    sys.exit(main())
