"""The control plane between real platforms: joining, platform push, sync pull.

Platforms M (the master) and N are seeded with each other; J is installed
alone with nothing but its domain and the cluster's SYNC_TOKEN, and joins.
A sync changed on M reaches N and J by M's push alone: no command runs there
and their periodic pull is off; a new sync fills its target with the records
its source already holds.
The tests run in order: each starts from the state the one before left.
"""

import json
import secrets

import pytest
import requests

from harness.cluster import Cluster
from harness.processes import wait_until
from platforms.signing import secret_from_token
from tests.webhooks.signed import signed_headers

pytestmark = pytest.mark.e2e

TOKEN = secrets.token_urlsafe(48)
# Seconds a sync change on the master takes at most to reach its platforms,
# checks included (each one starts a Django shell, a second or two).
PUSHED_WITHIN = 20
SYNCS = [
    {
        "source": "m",
        "source_model": "auth.User",
        "target": "n",
        "target_model": "auth.User",
    },
]
# The platform list as this platform holds it, public keys included.
PLATFORM_LIST = (
    "from platforms.push import push_rows; from platforms.models import Platform\n"
    "from platforms.selectors import platform_current; import json\n"
    "rows = push_rows(source=platform_current(), target=Platform(pk=0))\n"
    "print(json.dumps(sorted(rows, key=lambda r: r['domain']), default=str))"
)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    running = Cluster(
        tmp_path_factory.mktemp("control"),
        ["m", "n"],
        SYNCS,
        extra_env={"SYNC_TOKEN": TOKEN, "SYNC_API_JOB_ENABLED": "false"},
        joining=["j"],
        redis_first=13,
    ).start()
    yield running
    running.stop()


def _run(platform, *args: str) -> str:
    result = platform.manage(*args)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def _domains(platform) -> list[str]:
    return [row["domain"] for row in platform.python(PLATFORM_LIST)]


def _sync_uuids(platform) -> list[str]:
    return platform.python(
        "from syncs.models import Sync; import json; print(json.dumps(sorted("
        "str(u) for u in Sync.objects.values_list('uuid', flat=True))))"
    )


def _sync_statuses(platform) -> dict[str, bool]:
    return platform.python(
        "from syncs.models import Sync; import json; print(json.dumps({"
        "str(u): s for u, s in Sync.objects.values_list('uuid', 'status')}))"
    )


def _reaches(platforms, check) -> None:
    """Wait until ``check(platform)`` holds on every platform, pushed there."""
    for platform in platforms:
        wait_until(lambda p=platform: check(p), timeout=PUSHED_WITHIN)


def _user_exists(platform, username: str) -> bool:
    return platform.python(
        "from django.contrib.auth.models import User; import json; print(json.dumps("
        f"User.objects.filter(username={username!r}).exists()))"
    )


def _platform_add(master, domain: str, name: str) -> None:
    master.python(
        "from platforms.models import Platform; "
        "from platforms.services import platform_credentials_fill; "
        f"p = Platform(domain={domain!r}, name={name!r}, scheme='http'); "
        "platform_credentials_fill(platform=p); p.save()"
    )


def _sync_add(master, source: str, target: str) -> str:
    return master.python(
        "from platforms.models import Platform; from syncs.models import Sync; "
        "import json; s = Sync.objects.create("
        f"source_platform=Platform.objects.get(domain={source!r}), "
        f"target_platform=Platform.objects.get(domain={target!r}), "
        "source_model='auth.User', target_model='auth.User'); "
        "print(json.dumps(str(s.uuid)))"
    )


def test_new_platform_joins_with_only_its_domain_and_the_cluster_token(cluster):
    m, n, j = cluster["m"], cluster["n"], cluster["j"]
    assert _domains(j) == [j.spec.domain]  # installed alone: its own row only
    _platform_add(m, j.spec.domain, "Platform J")

    out = _run(m, "sync_platforms")

    assert f"{j.spec.domain}: ok: 2 created, 1 updated, 0 deleted" in out
    assert f"{n.spec.domain}: ok: 1 created, 0 updated, 0 deleted" in out
    masters = m.python(PLATFORM_LIST)
    assert j.python(PLATFORM_LIST) == masters  # uuids, tokens and public keys included
    assert n.python(PLATFORM_LIST) == masters


def test_bootstrap_secret_is_refused_once_the_platform_has_joined(cluster):
    j = cluster["j"]
    body = json.dumps({"source": "evil.test", "platforms": []}).encode()
    headers = signed_headers(
        body, secret=secret_from_token(TOKEN), domain=cluster["n"].spec.domain
    )

    answer = requests.post(
        j.url + "/sync-webhook", data=body, headers=headers, timeout=10
    )

    assert answer.status_code == 401


def test_pushing_again_changes_nothing(cluster):
    out = _run(cluster["m"], "sync_platforms")

    assert out.count("ok: 0 created, 0 updated, 0 deleted") == 2


EXISTING = 300  # users N holds before the sync to J exists


def _users_like(platform, prefix: str) -> dict[str, str]:
    return platform.python(
        "from django.contrib.auth.models import User; import json; print(json.dumps("
        f"dict(User.objects.filter(username__startswith={prefix!r})"
        ".values_list('username', 'email'))))"
    )


def test_sync_created_on_the_master_reaches_its_platforms_and_fills(cluster):
    m, n, j = cluster["m"], cluster["n"], cluster["j"]
    n.python(  # behind the listener's back, as an import would
        "from django.contrib.auth.models import User; User.objects.bulk_create("
        f"User(username=f'existing{{i:04d}}') for i in range({EXISTING}))"
    )
    created = _sync_add(m, n.spec.domain, j.spec.domain)

    _reaches([n, j], lambda p: created in _sync_uuids(p))
    # A live change while the fill runs wins, whichever is sent first.
    n.python(
        "from django.contrib.auth.models import User; "
        "User.objects.create_user('joiner', 'joiner@n.test', 'pw-joiner-123'); "
        "u = User.objects.get(username='existing0042'); "
        "u.email = 'live@n.test'; u.save()"
    )

    wait_until(lambda: len(_users_like(j, "existing")) == EXISTING, timeout=60)
    wait_until(lambda: _user_exists(j, "joiner"), timeout=60)
    wait_until(lambda: _users_like(j, "existing")["existing0042"], timeout=30)
    assert _users_like(j, "existing") == _users_like(n, "existing")
    fill = (
        "from syncs.models import SyncFill; import json; print(json.dumps("
        f"list(SyncFill.objects.filter(sync__uuid={created!r})"
        ".values_list('status', 'queued'))))"
    )
    ((status, queued),) = wait_until(
        lambda: [row for row in n.python(fill) if row[0] != "running"], timeout=30
    )
    assert status == "done" and queued >= EXISTING  # the joiner, if it was there


def test_seeded_sync_survives_the_pull_of_a_platform_that_has_it(cluster):
    n = cluster["n"]

    out = _run(n, "sync_api")

    assert "No changes." in out
    assert len(_sync_uuids(n)) == 2  # m -> n (seeded) and n -> j


def test_platform_deleted_on_the_master_is_removed_everywhere(cluster):
    m, n, j = cluster["m"], cluster["n"], cluster["j"]
    doomed = "127.0.0.1:9"  # discard port: nobody answers there
    _platform_add(m, doomed, "Doomed")

    failed = m.manage("sync_platforms")
    assert failed.returncode == 1
    assert f"{doomed}: failed: http://{doomed}/sync-webhook" in failed.stdout
    assert doomed in _domains(j) and doomed in _domains(n)

    m.python(
        "from platforms.models import Platform; "
        f"Platform.objects.filter(domain={doomed!r}).delete()"
    )
    out = _run(m, "sync_platforms")

    assert f"{j.spec.domain}: ok: 0 created, 0 updated, 1 deleted" in out
    assert doomed not in _domains(j) and doomed not in _domains(n)


def test_sync_paused_on_the_master_is_paused_on_its_platforms(cluster):
    m, n, j = cluster["m"], cluster["n"], cluster["j"]
    (paused,) = m.python(
        "from syncs.models import Sync; import json; "
        f"s = Sync.objects.get(target_platform__domain={j.spec.domain!r}); "
        "s.status = False; s.save(); print(json.dumps([str(s.uuid)]))"
    )

    _reaches([n, j], lambda p: _sync_statuses(p).get(paused) is False)


def test_sync_deleted_on_the_master_stops_on_its_platforms(cluster):
    m, n, j = cluster["m"], cluster["n"], cluster["j"]
    (doomed,) = m.python(
        "from syncs.models import Sync; import json; "
        f"s = Sync.objects.get(target_platform__domain={j.spec.domain!r}); "
        "s.delete(); print(json.dumps([str(s.uuid)]))"
    )

    _reaches([n, j], lambda p: doomed not in _sync_uuids(p))
    n.python(
        "from django.contrib.auth.models import User; "
        "User.objects.create_user('after', 'after@n.test', 'pw-after-1234')"
    )

    queued = n.python(
        "from syncs.models import OutboxEvent; import json; print(json.dumps("
        "OutboxEvent.objects.filter(object_key=['after']).count()))"
    )
    assert queued == 0
    assert not _user_exists(j, "after")


def test_sync_api_with_the_master_down_fails_naming_its_url(cluster):
    m, j = cluster["m"], cluster["j"]
    m.web_stop()
    try:
        result = j.manage("sync_api")
    finally:
        m.web_start()

    assert result.returncode == 1
    assert f"{m.url}/api/platforms/" in result.stderr
    assert "unreachable" in result.stderr
