"""Fresh databases for the harness's platforms and sites, of the test's kind.

SQLite by default; with a PostgreSQL or MySQL/MariaDB DATABASE_URL in the test
process's environment, a new database on that server, and with a Redis
CELERY_BROKER_URL, a Redis database number of its own.
"""

import json
from pathlib import Path

from harness.processes import run_checked


def postgres_database(base_url: str, name: str) -> str:
    """Create a fresh PostgreSQL database beside ``base_url``'s; return its URL."""
    import psycopg

    with psycopg.connect(
        base_url.replace("postgres://", "postgresql://"), autocommit=True
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return base_url.rsplit("/", 1)[0] + "/" + name


def mysql_database(base_url: str, name: str, python: Path) -> str:
    """Create a fresh MySQL/MariaDB database beside ``base_url``'s; return its URL.

    Through ``python``'s mysqlclient: a site's virtualenv has it, the test
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
    run_checked([str(python), "-c", code, json.dumps(connect)])
    return urlunsplit(url._replace(path=f"/{name}"))


def server_database(base_url: str, name: str, python: Path) -> str | None:
    """Return a fresh database ``name`` on ``base_url``'s server; None for SQLite."""
    if base_url.startswith("postgres"):
        return postgres_database(base_url, name)
    if base_url.startswith("mysql"):
        return mysql_database(base_url, name, python)
    return None


def redis_database(base_url: str, number: int) -> str | None:
    """Empty Redis database ``number`` beside ``base_url``'s and return its URL.

    None when ``base_url`` is not Redis's (the filesystem broker).
    """
    if not base_url.startswith("redis"):
        return None
    import redis

    url = base_url.rsplit("/", 1)[0] + f"/{number}"
    redis.Redis.from_url(url).flushdb()
    return url
