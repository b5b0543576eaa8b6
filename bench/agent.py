"""Work a benchmark does inside one platform's Django (run with its env).

    python bench/agent.py create PREFIX COUNT [PER_TRANSACTION]
    python bench/agent.py latency PREFIX COUNT PEER_DATABASE_URL

Prints one JSON line with what it measured.
"""

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mooxsync.settings")


def peer_counter(database_url: str):
    """Return a function counting users whose name starts with a prefix, on a peer."""
    if database_url.startswith("sqlite"):
        import sqlite3

        conn = sqlite3.connect(database_url.removeprefix("sqlite:///"), timeout=30)
        placeholder = "?"
    else:
        import psycopg

        conn = psycopg.connect(
            database_url.replace("postgres://", "postgresql://"), autocommit=True
        )
        placeholder = "%s"
    sql = f"SELECT COUNT(*) FROM auth_user WHERE username LIKE {placeholder}"

    def count(prefix: str) -> int:
        row = conn.execute(sql, (prefix + "%",)).fetchone()
        if database_url.startswith("sqlite"):
            conn.commit()  # end the read transaction so the next read is fresh
        return row[0]

    return count


def create(prefix: str, count: int, per_transaction: int = 100) -> dict:
    """Create ``count`` users in transactions of ``per_transaction``."""
    from django.contrib.auth.models import User
    from django.db import transaction

    started = time.time()
    for first in range(0, count, per_transaction):
        with transaction.atomic():
            for i in range(first, min(first + per_transaction, count)):
                User.objects.create(username=f"{prefix}{i}", password="!bench")
    return {"started": started, "committed": time.time()}


def latency(prefix: str, count: int, peer_database_url: str) -> dict:
    """Save users one at a time; time each commit until the peer has it."""
    from django.contrib.auth.models import User
    from django.db import transaction

    peer_count = peer_counter(peer_database_url)
    samples = []
    for i in range(count):
        name = f"{prefix}{i:05d}"
        with transaction.atomic():
            User.objects.create(username=name, password="!bench")
        committed = time.perf_counter()
        deadline = committed + 30
        while peer_count(name) == 0:
            if time.perf_counter() > deadline:
                raise SystemExit(f"{name} did not arrive within 30 s")
            time.sleep(0.002)
        samples.append(time.perf_counter() - committed)
    return {"samples": samples}


def main() -> None:
    import django

    django.setup()
    command, *args = sys.argv[1:]
    if command == "create":
        result = create(args[0], int(args[1]), *(int(a) for a in args[2:]))
    elif command == "latency":
        result = latency(args[0], int(args[1]), args[2])
    else:
        raise SystemExit(f"unknown command {command!r}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
