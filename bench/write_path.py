"""Benchmark 1: the cost the listener adds to the source's write path.

Saves N users one by one, each in its own transaction, with the listener on and
off (the baseline, measured in the same run, the two taking turns every
--block saves so that whatever else the machine does weighs on both alike),
creates and updates, and prints the ratio. Runs on a fresh SQLite file
database and, when --postgres or --mysql is given, on a fresh PostgreSQL or
MySQL/MariaDB database too (mysqlclient: the mysql extra). The broker is
Celery's filesystem transport in a temporary folder: delivery requests are
really published.

    .venv/bin/python bench/write_path.py [-n 2000] [--rounds 3] [--block 100]
        [--postgres URL] [--mysql URL]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


BENCH_DATABASE = "mooxsync_bench_write"


def _run_one(database_url: str, count: int, rounds: int, block: int) -> dict:
    """Measure in a child process configured for ``database_url``."""
    folder = tempfile.mkdtemp(prefix="mooxsync-bench-")
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "mooxsync.settings",
        "SECRET_KEY": "bench-only",
        "DATABASE_URL": database_url or f"sqlite:///{folder}/db.sqlite3",
        "CELERY_BROKER_URL": "filesystem://localhost//",
        "CELERY_BROKER_FOLDER": f"{folder}/broker",
        "MOOXSYNC_VAR_DIR": folder,
        "SYNC_PLATFORM_DOMAIN": "a.bench",
        "SYNC_REGISTRY_TTL": "3600",
    }
    code = f"import bench.write_path as b; b._child({count}, {rounds}, {block})"
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if result.returncode:
        raise SystemExit(result.stderr)
    return json.loads(result.stdout.strip().splitlines()[-1])


def _child(count: int, rounds: int, block: int) -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import transaction
    from django.test import override_settings

    from syncs.models import OutboxEvent, Sync
    from syncs.registry import routes_for
    from tests.factories import PlatformFactory

    call_command("migrate", verbosity=0)
    source = PlatformFactory(domain="a.bench")
    Sync.objects.create(
        source_platform=source,
        source_model="auth.User",
        target_platform=PlatformFactory(domain="b.bench"),
        target_model="auth.User",
    )
    password = "!unusable"
    routes_for("auth.user")  # load the listener's syncs before timing

    def create(listener: bool, i: int) -> None:
        with transaction.atomic():
            User.objects.create(username=f"{listener}{i}", password=password)

    def update(listener: bool, i: int) -> None:
        user = users[listener][i]
        with transaction.atomic():
            user.email = f"{user.username}{user.email}@changed.test"[:254]
            user.save()

    def alternate(save) -> dict[bool, float]:
        """Time ``count`` saves per mode, off and on taking turns in blocks.

        Taking turns (off-on, on-off, ...) spreads whatever else the machine
        does over both modes alike.
        """
        spent = {False: 0.0, True: 0.0}
        for turn, start in enumerate(range(0, count, block)):
            for listener in (False, True) if turn % 2 == 0 else (True, False):
                # Through setting_changed, which reloads the cached app settings.
                with override_settings(SYNC_LISTENER_ENABLED=listener):
                    started = time.perf_counter()
                    for i in range(start, min(start + block, count)):
                        save(listener, i)
                    spent[listener] += time.perf_counter() - started
        return spent

    users: dict[bool, list[User]] = {}
    timings: dict[str, list[float]] = {}
    for _ in range(rounds):
        with override_settings(SYNC_LISTENER_ENABLED=False):
            User.objects.all().delete()
        created = alternate(create)
        for listener in (False, True):
            users[listener] = list(User.objects.filter(username__startswith=listener))
        updated = alternate(update)
        for kind, spent in (("create", created), ("update", updated)):
            for listener, seconds in spent.items():
                timings.setdefault(f"{kind}_{str(listener).lower()}", []).append(
                    seconds
                )
    outbox = OutboxEvent.objects.count()
    result = {key: statistics.median(values) for key, values in timings.items()}
    result["outbox_rows"] = outbox
    result["broker_messages"] = len(
        list(Path(f"{settings.VAR_DIR}/broker/queue").glob("*"))
    )
    print(json.dumps(result))


def _report(name: str, result: dict, count: int) -> None:
    for kind in ("create", "update"):
        off, on = result[f"{kind}_false"], result[f"{kind}_true"]
        print(
            f"{name:<10} {kind:<7} listener off {count / off:8.0f} saves/s   "
            f"on {count / on:8.0f} saves/s   ratio {on / off:5.2f}x (target <= 1.30x)"
        )
    print(
        f"{name:<10} outbox rows written: {result['outbox_rows']}, "
        f"broker messages published: {result['broker_messages']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--block", type=int, default=100, help="saves per turn of each mode"
    )
    parser.add_argument(
        "--postgres",
        help="base PostgreSQL URL, e.g. postgres://postgres@127.0.0.1:5432/test",
    )
    parser.add_argument(
        "--mysql", help="base MySQL/MariaDB URL, e.g. mysql://root@127.0.0.1:3306/test"
    )
    args = parser.parse_args()
    print(
        f"Write path: {args.n} saves one by one per mode, each its own "
        f"transaction, off and on taking turns every {args.block} saves; "
        f"median of {args.rounds} rounds"
    )
    measure = partial(_run_one, count=args.n, rounds=args.rounds, block=args.block)
    _report("sqlite", measure(""), args.n)
    if args.postgres:
        _report("postgres", measure(_fresh(args.postgres)), args.n)
    if args.mysql:
        _report("mysql", measure(_fresh(args.mysql)), args.n)


def _fresh(base_url: str) -> str:
    """Create the bench's database on that server, as the harness creates its own."""
    from harness.databases import server_database

    return server_database(base_url, BENCH_DATABASE, Path(sys.executable))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
