"""Live sync between real platforms: gunicorn + Celery worker each, real HTTP."""

import json
import re
import time
import uuid

import pytest
import requests

from harness.cluster import Cluster
from harness.processes import wait_until
from platforms.signing import delivery_headers, key_sign
from platforms.transport import PLATFORM_HEADER

pytestmark = pytest.mark.e2e

# Passwords travel (users sign in on the target) and group permissions travel
# both ways: privileged fields, written only where a mapping names them.
PASSWORD = {"password": "password"}
PERMISSIONS = {"permissions": "permissions"}
SYNCS = [
    {
        "source": "a",
        "source_model": "auth.User",
        "target": "b",
        "target_model": "auth.User",
        "field_mappings": PASSWORD,
    },
    {
        "source": "b",
        "source_model": "auth.User",
        "target": "c",
        "target_model": "auth.User",
        "field_mappings": PASSWORD,
    },
    {
        "source": "a",
        "source_model": "auth.Group",
        "target": "b",
        "target_model": "auth.Group",
        "field_mappings": PERMISSIONS,
    },
    {
        "source": "b",
        "source_model": "auth.Group",
        "target": "a",
        "target_model": "auth.Group",
        "field_mappings": PERMISSIONS,
    },
]
USER = "from django.contrib.auth.models import User, Group, Permission; import json; "


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    running = Cluster(tmp_path_factory.mktemp("live"), ["a", "b", "c"], SYNCS).start()
    yield running
    running.stop()


def user_state(platform, username: str, password: str | None = None):
    """Return a user's email, groups and password check on a platform, or None."""
    check = f"u.check_password({password!r})" if password else "None"
    return platform.python(
        USER + f"u = User.objects.filter(username={username!r}).first(); "
        "print(json.dumps(u and {'email': u.email, 'groups': sorted(u.groups."
        f"values_list('name', flat=True)), 'password_ok': {check}}}))"
    )


def test_create_update_delete_propagate_along_a_chain(cluster):
    a, b, c = cluster["a"], cluster["b"], cluster["c"]
    a.python(
        USER + "User.objects.create_user('alice', 'alice@a.test', 'wonder-land-42')"
    )
    state = wait_until(lambda: user_state(b, "alice", "wonder-land-42"))
    assert state == {"email": "alice@a.test", "groups": [], "password_ok": True}
    assert wait_until(lambda: user_state(c, "alice", "wonder-land-42"))["password_ok"]

    a.python(
        USER + "User.objects.filter(username='alice').first().__class__; "
        "u = User.objects.get(username='alice'); u.email = 'new@a.test'; u.save()"
    )
    wait_until(lambda: (user_state(b, "alice") or {}).get("email") == "new@a.test")
    wait_until(lambda: (user_state(c, "alice") or {}).get("email") == "new@a.test")

    a.python(USER + "User.objects.get(username='alice').delete()")
    wait_until(lambda: user_state(b, "alice") is None)
    wait_until(lambda: user_state(c, "alice") is None)


def test_many_to_many_changes_propagate(cluster):
    a, b = cluster["a"], cluster["b"]
    a.python(
        USER + "g = Group.objects.create(name='editors'); "
        "u = User.objects.create_user('bob', 'bob@a.test', 'pw-bob-12345'); "
        "u.groups.add(g)"
    )
    wait_until(lambda: (user_state(b, "bob") or {}).get("groups") == ["editors"])
    a.python(USER + "Group.objects.get(name='editors').user_set.clear()")
    wait_until(lambda: (user_state(b, "bob") or {}).get("groups") == [])


def test_rolled_back_transaction_sends_nothing(cluster):
    a, b = cluster["a"], cluster["b"]
    a.python(
        USER + "from django.db import transaction\n"
        "try:\n"
        "    with transaction.atomic():\n"
        "        User.objects.create_user('ghost', 'g@a.test', 'pw-ghost-123')\n"
        "        raise RuntimeError('roll back')\n"
        "except RuntimeError:\n"
        "    pass\n"
        "User.objects.create_user('marker', 'm@a.test', 'pw-marker-123')"
    )
    wait_until(lambda: user_state(b, "marker"))
    assert user_state(b, "ghost") is None
    sent = a.python(
        "from syncs.models import OutboxEvent; import json; "
        "print(json.dumps(OutboxEvent.objects.filter(object_key=['ghost']).count()))"
    )
    assert sent == 0


def test_target_down_for_a_while_then_back_gets_everything(cluster):
    a, b = cluster["a"], cluster["b"]
    b.web_stop()
    a.python(
        USER + "[User.objects.create_user(f'down{i}', f'd{i}@a.test', 'pw-down-123') "
        "for i in range(20)]"
    )
    retried = wait_until(
        lambda: a.python(
            "from syncs.models import OutboxEvent; import json; print(json.dumps("
            "OutboxEvent.objects.filter(status='pending', attempts__gte=2).count()))"
        )
    )
    assert retried > 0
    time.sleep(1)
    b.web_start()
    count = (
        USER
        + "print(json.dumps(User.objects.filter(username__startswith='down').count()))"
    )
    wait_until(lambda: b.python(count) == 20, timeout=60)
    dead = a.python(
        "from syncs.models import OutboxEvent; import json; "
        "print(json.dumps(OutboxEvent.objects"
        ".exclude(status__in=['delivered', 'pending'])"
        ".count()))"
    )
    assert dead == 0


def _post(cluster, target, events, *, secret=None, sender="a", timestamp=None):
    body = json.dumps(
        {"source": cluster[sender].spec.domain, "events": events}
    ).encode()
    msg_id = f"msg_{uuid.uuid4().hex}"
    private_key = secret or cluster.private_key_of(sender)
    headers = delivery_headers(private_keys=[private_key], msg_id=msg_id, body=body)
    if timestamp is not None:
        headers["webhook-timestamp"] = str(timestamp)
        headers["webhook-signature"] = key_sign(
            private_key=private_key,
            msg_id=msg_id,
            timestamp=timestamp,
            body=body,
        )
    headers |= {
        "Content-Type": "application/json",
        PLATFORM_HEADER: cluster[sender].spec.domain,
    }
    return requests.post(
        cluster[target].url + "/sync-webhook", data=body, headers=headers, timeout=10
    )


def _user_event(version: int, username: str, email: str, **overrides) -> dict:
    event = {
        "id": f"test-{username}-{version}",
        "version": version,
        "type": "updated",
        "model": "auth.User",
        "source_model": "auth.User",
        "key": [username],
        "data": {"username": username, "email": email, "password": "!"},
        "should_delete": False,
    }
    return event | overrides


def test_duplicate_and_reordered_deliveries_converge(cluster):
    b = cluster["b"]
    newer = _user_event(10**12 + 2, "carol", "newer@a.test")
    older = _user_event(10**12 + 1, "carol", "older@a.test")
    first = _post(cluster, "b", [newer])
    assert first.status_code == 202 and first.json() == {"accepted": 1, "duplicates": 0}
    again = _post(cluster, "b", [newer])
    assert again.json() == {"accepted": 0, "duplicates": 1}
    late = _post(cluster, "b", [older])
    assert late.status_code == 202
    wait_until(
        lambda: b.python(
            "from webhooks.models import InboxEvent; import json; print(json.dumps("
            "not InboxEvent.objects.filter(status='pending').exists()))"
        )
    )
    assert user_state(b, "carol")["email"] == "newer@a.test"


def _b_counts(b):
    return b.python(
        USER + "from webhooks.models import InboxEvent; print(json.dumps("
        "[InboxEvent.objects.count(), User.objects.count(), Group.objects.count()]))"
    )


def test_bad_requests_get_4xx_and_write_nothing(cluster):
    b = cluster["b"]
    before = _b_counts(b)
    good = _user_event(10**12 + 5, "mallory", "m@evil.test")
    answers = {
        "bad signature": _post(
            cluster, "b", [good], secret=cluster.private_key_of("c")
        ),
        "stale timestamp": _post(
            cluster, "b", [good], timestamp=int(time.time()) - 301
        ),
        "unknown platform": requests.post(
            b.url + "/sync-webhook",
            data=b"{}",
            timeout=10,
            headers={
                PLATFORM_HEADER: "unknown.test",
                "Content-Type": "application/json",
            },
        ),
        "disallowed model": _post(
            cluster,
            "b",
            [
                good
                | {"model": "platforms.Platform", "source_model": "platforms.Platform"}
            ],
        ),
        "unknown field": _post(
            cluster, "b", [good | {"data": {"username": "mallory", "is_root": True}}]
        ),
    }
    codes = {name: answer.status_code for name, answer in answers.items()}
    assert codes == {
        "bad signature": 401,
        "stale timestamp": 401,
        "unknown platform": 401,
        "disallowed model": 403,
        "unknown field": 400,
    }
    assert all("error" in answer.json() for answer in answers.values())
    assert _b_counts(b) == before
    assert user_state(b, "mallory") is None


def test_two_way_pair_does_not_loop(cluster):
    a, b = cluster["a"], cluster["b"]
    a.python(USER + "Group.objects.create(name='two-way')")
    wait_until(
        lambda: b.python(
            USER + "print(json.dumps(Group.objects.filter(name='two-way').exists()))"
        )
    )
    b.python(
        USER + "g = Group.objects.get(name='two-way'); "
        "g.permissions.add(Permission.objects.get(codename='view_user'))"
    )
    wait_until(
        lambda: (
            a.python(
                USER + "g = Group.objects.get(name='two-way'); "
                "print(json.dumps(g.permissions.count()))"
            )
            == 1
        )
    )
    time.sleep(2)  # let any echo travel, if there were one
    echo = (
        "from syncs.models import OutboxEvent; import json; print(json.dumps("
        "OutboxEvent.objects.filter(object_key=['two-way']).count()))"
    )
    # One event each: A's create went to B, B's edit went to A; nothing came back.
    assert a.python(echo) == 1
    assert b.python(echo) == 1


def _pks(platform, username: str) -> list[int]:
    return platform.python(
        USER + "print(json.dumps(list(User.objects.filter("
        f"username={username!r}).values_list('pk', flat=True))))"
    )


def _repairs(platform, model: str) -> tuple[int, int, int]:
    """Return (created, updated, deleted) that a backup of ``model`` would send."""
    result = platform.manage("sync_backup", "--dry-run")
    assert result.returncode == 0, result.stderr[-3000:]
    line = next(line for line in result.stdout.splitlines() if f"({model}) to" in line)
    found = re.search(r"created (\d+), updated (\d+), deleted (\d+)", line)
    return tuple(int(number) for number in found.groups())


def test_renamed_user_stays_one_user_and_the_backup_agrees(cluster):
    a, b = cluster["a"], cluster["b"]
    a.python(
        USER + "g = Group.objects.create(name='renamers'); "
        "u = User.objects.create_user('x_old', 'x@a.test', 'pw-rename-123'); "
        "u.groups.add(g)"
    )
    wait_until(lambda: (user_state(b, "x_old") or {}).get("groups") == ["renamers"])
    on_b = _pks(b, "x_old")
    # Earlier tests wrote users straight into B (carol): drift that stays.
    drift = _repairs(a, "auth.User")

    a.python(
        USER + "u = User.objects.get(username='x_old'); u.username = 'x_new'; u.save()"
    )

    state = wait_until(lambda: user_state(b, "x_new", "pw-rename-123"))
    assert state == {"email": "x@a.test", "groups": ["renamers"], "password_ok": True}
    assert _pks(b, "x_new") == on_b
    assert user_state(b, "x_old") is None
    assert _repairs(a, "auth.User") == drift


def test_no_secret_reaches_a_log(cluster):
    # Runs last in this module: every process has logged its share by now.
    secrets = [
        row["fields"][name]
        for row in cluster.fixture
        for name in ("api_token", "private_key")
        if row["fields"].get(name)
    ]
    secrets += [s.removeprefix("whsk_") for s in secrets if s.startswith("whsk_")]
    logs = "".join(platform.log_text() for platform in cluster.platforms.values())
    assert len(logs) > 1000  # the workers and web servers did log
    assert [s for s in secrets if s in logs] == []
