"""Per-platform keys between real platforms: a platform signs only as itself.

A is the master and syncs users to B; C syncs groups to B. The tests run in
order: the attack first (A's seeded key still current), then a rotation of
A's key while changes flow, then C's revocation.
"""

import base64
import json
import secrets
import threading
import time
import uuid

import pytest
import requests

from harness.cluster import Cluster
from harness.processes import wait_until
from platforms.signing import secret_from_token
from tests.webhooks.signed import signed_headers, user_data

pytestmark = pytest.mark.e2e

TOKEN = secrets.token_urlsafe(48)
OVERLAP = 8  # seconds a rotated key still verifies
PRIVILEGED = ("password", "is_staff", "is_superuser", "user_permissions")
SYNCS = [
    {
        "source": "a",
        "source_model": "auth.User",
        "target": "b",
        "target_model": "auth.User",
        "field_mappings": {name: name for name in PRIVILEGED},
    },
    {
        "source": "c",
        "source_model": "auth.Group",
        "target": "b",
        "target_model": "auth.Group",
    },
]
# Everything C's database holds about platforms and keys.
LOOT = (
    "from platforms.models import Platform, PlatformKey; import json\n"
    "print(json.dumps({"
    "'keys': list(PlatformKey.objects.values('public_key', 'private_key')), "
    "'platforms': list(Platform.objects.values('domain', 'api_token', "
    "'signing_secret'))}))"
)
USERS = (
    "from django.contrib.auth.models import User; import json; print(json.dumps("
    "sorted(User.objects.filter(username__startswith={prefix!r})"
    ".values_list('username', flat=True))))"
)
PLATFORM_ROWS = (
    "from platforms.models import Platform; import json; print(json.dumps(sorted("
    "Platform.objects.values_list('domain', 'locked', 'signing_secret'))))"
)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    running = Cluster(
        tmp_path_factory.mktemp("keys"),
        ["a", "b", "c"],
        SYNCS,
        {
            "SYNC_TOKEN": TOKEN,
            "SYNC_KEY_OVERLAP_SECONDS": str(OVERLAP),
            "FILE_SYNC_ENABLED": "true",  # its endpoints are attacked too
        },
        redis_first=2,
    ).start()
    yield running
    running.stop()


def _signed_post(target, path: str, payload: dict, *, sender: str, material: str):
    """POST ``payload`` to ``target`` claiming ``sender``, signed with ``material``."""
    body = json.dumps(payload).encode()
    headers = signed_headers(body, secret=material, domain=sender)
    headers["Content-Type"] = "application/json"
    return requests.post(target.url + path, data=body, headers=headers, timeout=30)


def _as_hmac_secret(value: str) -> str:
    """Any string as a whsec_ secret: every byte C holds is tried as a key."""
    return "whsec_" + base64.b64encode(value.encode()).decode()


def _event(model: str, key: str, data: dict) -> dict:
    return {
        "id": f"evt-{uuid.uuid4().hex}",
        "version": 1,
        "type": "created",
        "model": model,
        "source_model": model,
        "key": [key],
        "data": data,
        "should_delete": False,
    }


def _superuser_event(username: str) -> dict:
    data = user_data(username, is_superuser=True, is_staff=True)
    return _event("auth.User", username, data)


def _platform_row(name: str, domain: str, *, master: bool) -> dict:
    """A row of a platform push, as the master sends it."""
    return {
        "uuid": str(uuid.uuid4()),
        "name": name,
        "domain": domain,
        "scheme": "http",
        "ip_address": None,
        "master": master,
        "locked": False,
        "lock_reason": "",
        "show_in_menu": False,
        "order": 0,
        "api_token": None,
        "signing_secret": "",
        "keys": [],
    }


def _attacks(a_domain: str, attacker: str) -> dict[str, tuple[str, dict]]:
    """Each signed endpoint of B, with a request that would do harm as A."""
    return {
        "webhook": (
            "/sync-webhook",
            {"source": a_domain, "events": [_superuser_event("mallory")]},
        ),
        "digest": (
            "/sync-webhook/digest/",
            {
                "op": "plan",
                "source_model": "auth.User",
                "model": "auth.User",
                "fields": ["username", "password"],
            },
        ),
        "files": ("/sync-webhook/files/check/", {"files": []}),
        "platform push": (
            "/sync-webhook",
            {
                "source": a_domain,
                "platforms": [
                    _platform_row("Evil master", a_domain, master=True),
                    _platform_row("Attacker", attacker, master=False),
                ],
            },
        ),
    }


def test_nothing_platform_c_stores_signs_as_a_or_the_master(cluster):
    a, b, c = cluster["a"], cluster["b"], cluster["c"]
    loot = c.python(LOOT)
    env = c.env
    materials = {key["private_key"] for key in loot["keys"] if key["private_key"]}
    materials |= {p["signing_secret"] for p in loot["platforms"] if p["signing_secret"]}
    materials.add(secret_from_token(env["SYNC_TOKEN"]))  # the bootstrap secret
    materials |= {_as_hmac_secret(p["api_token"]) for p in loot["platforms"]}
    materials |= {_as_hmac_secret(value) for value in env.values() if value}
    platforms_before = b.python(PLATFORM_ROWS)

    answers = {
        (name, material[:10]): _signed_post(
            b, path, payload, sender=a.spec.domain, material=material
        ).status_code
        for material in materials
        for name, (path, payload) in _attacks(a.spec.domain, "evil.test").items()
    }

    # C holds its own private key and no other: it could sign only as C.
    assert sum(1 for key in loot["keys"] if key["private_key"]) == 1
    assert set(answers.values()) <= {401, 403}, answers
    assert b.python(USERS.format(prefix="mallory")) == []
    assert b.python(PLATFORM_ROWS) == platforms_before
    # The same request signed with A's own key, which only A holds, is taken.
    path, payload = _attacks(a.spec.domain, "evil.test")["webhook"]
    payload = {"source": a.spec.domain, "events": [_superuser_event("control")]}
    taken = _signed_post(
        b, path, payload, sender=a.spec.domain, material=cluster.private_key_of("a")
    )
    assert taken.status_code == 202, taken.text
    wait_until(lambda: b.python(USERS.format(prefix="control")) == ["control"])


def _users_create(a, prefix: str, count: int, failures: list) -> None:
    try:
        a.python(
            "from django.contrib.auth.models import User\n"
            f"for i in range({count}):\n"
            f"    User.objects.create(username=f'{prefix}{{i:04d}}', password='!')\n"
        )
    except BaseException as exc:  # the test reads it after join()
        failures.append(exc)


def test_rotating_as_changes_flow_loses_nothing_and_refuses_nothing(cluster):
    a, b = cluster["a"], cluster["b"]
    old_key = cluster.private_key_of("a")
    failures: list = []
    writer = threading.Thread(
        target=_users_create, args=(a, "rot", 1000, failures), daemon=True
    )

    writer.start()
    time.sleep(1)
    rotated = a.manage("sync_keys", "--rotate", a.spec.domain)
    rotated_at = time.monotonic()
    writer.join(timeout=300)

    assert rotated.returncode == 0, rotated.stderr
    assert not writer.is_alive() and failures == []
    wait_until(lambda: len(b.python(USERS.format(prefix="rot"))) == 1000, timeout=180)
    # After the overlap A signs with its new key alone, and B takes it.
    time.sleep(max(0.0, OVERLAP + 1 - (time.monotonic() - rotated_at)))
    _users_create(a, "after", 50, failures)
    assert failures == []
    wait_until(lambda: len(b.python(USERS.format(prefix="after"))) == 50, timeout=60)
    # Nothing was refused, and the old key is of no use any more.
    assert "answered 401" not in a.log_text()
    assert (
        a.python(
            "from syncs.models import OutboxEvent; import json; print(json.dumps("
            "OutboxEvent.objects.exclude(status='delivered').count()))"
        )
        == 0
    )
    path, payload = _attacks(a.spec.domain, "evil.test")["webhook"]
    late = _signed_post(b, path, payload, sender=a.spec.domain, material=old_key)
    assert late.status_code == 401


def _group_event(name: str) -> dict:
    return _event("auth.Group", name, {"name": name, "permissions": []})


def _from_c(cluster, name: str) -> requests.Response:
    c = cluster["c"]
    payload = {"source": c.spec.domain, "events": [_group_event(name)]}
    return _signed_post(
        cluster["b"],
        "/sync-webhook",
        payload,
        sender=c.spec.domain,
        material=cluster.private_key_of("c"),
    )


def _push(a) -> None:
    pushed = a.manage("sync_platforms")
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr


def test_locking_or_removing_c_on_the_master_makes_b_refuse_it_at_the_next_push(
    cluster,
):
    a, c = cluster["a"], cluster["c"]
    assert _from_c(cluster, "before").status_code == 202

    a.python(
        "from platforms.models import Platform; Platform.objects.filter("
        f"domain={c.spec.domain!r}).update(locked=True, lock_reason='leaked')"
    )
    _push(a)
    locked = _from_c(cluster, "locked")

    a.python(
        "from platforms.models import Platform; from syncs.models import Sync\n"
        f"Sync.objects.filter(source_platform__domain={c.spec.domain!r}).delete()\n"
        f"Platform.objects.filter(domain={c.spec.domain!r}).delete()\n"
    )
    _push(a)
    removed = _from_c(cluster, "removed")

    assert (locked.status_code, locked.json()["error"]) == (401, "platform_locked")
    assert removed.status_code == 401
    groups = cluster["b"].python(
        "from django.contrib.auth.models import Group; import json; "
        "print(json.dumps(sorted(Group.objects.values_list('name', flat=True))))"
    )
    assert "locked" not in groups and "removed" not in groups
