"""A cluster of the shared-secret scheme moves to keys while changes flow.

A (the master) syncs users to B and B syncs groups to A, both signing with
whsec_ secrets every platform holds, as earlier versions did. Then the master
pushes (every platform gets its key) and retires the secrets; changes keep
flowing through each step, none is refused, and the old secrets sign nothing.
"""

import json
import threading

import pytest
import requests

from harness.cluster import Cluster
from harness.processes import wait_until
from platforms.credentials import signing_secret_generate
from tests.webhooks.signed import signed_headers

pytestmark = pytest.mark.e2e

SYNCS = [
    {
        "source": "a",
        "source_model": "auth.User",
        "target": "b",
        "target_model": "auth.User",
    },
    {
        "source": "b",
        "source_model": "auth.Group",
        "target": "a",
        "target_model": "auth.Group",
    },
]
COUNT = (
    "from django.contrib.auth.models import {model}; import json; print(json.dumps("
    "{model}.objects.filter({field}__startswith={prefix!r}).count()))"
)
UNDELIVERED = (
    "from syncs.models import OutboxEvent; import json; print(json.dumps("
    "OutboxEvent.objects.exclude(status='delivered').count()))"
)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    running = Cluster(
        tmp_path_factory.mktemp("upgrade"), ["a", "b"], SYNCS, redis_first=7
    ).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def secrets(cluster):
    """Turn the seeded cluster into one of the shared-secret scheme."""
    shared = {key: signing_secret_generate() for key in ("a", "b")}
    for platform in cluster.platforms.values():
        platform.python(
            "from platforms.models import Platform, PlatformKey\n"
            "PlatformKey.objects.all().delete()\n"
            + "".join(
                f"Platform.objects.filter(domain={cluster[key].spec.domain!r})"
                f".update(signing_secret={secret!r})\n"
                for key, secret in shared.items()
            )
        )
    return shared


def _users(a, prefix: str, count: int, failures: list) -> None:
    try:
        a.python(
            "from django.contrib.auth.models import User\n"
            f"for i in range({count}):\n"
            f"    User.objects.create(username=f'{prefix}{{i:04d}}', password='!')\n"
        )
    except BaseException as exc:  # read by the test after join()
        failures.append(exc)


def _arrived(platform, model: str, field: str, prefix: str) -> int:
    return platform.python(COUNT.format(model=model, field=field, prefix=prefix))


def _flows(cluster, step: str) -> None:
    """Changes both ways arrive: 100 users A -> B, a group B -> A."""
    a, b = cluster["a"], cluster["b"]
    failures: list = []
    _users(a, f"{step}-", 100, failures)
    b.python(
        "from django.contrib.auth.models import Group; "
        f"Group.objects.create(name='{step}-group')"
    )
    assert failures == []
    wait_until(lambda: _arrived(b, "User", "username", f"{step}-") == 100, timeout=90)
    wait_until(lambda: _arrived(a, "Group", "name", f"{step}-") == 1, timeout=60)


def test_the_shared_secret_scheme_syncs(cluster, secrets):
    _flows(cluster, "shared")


def test_the_first_push_gives_every_platform_its_key_while_changes_flow(
    cluster, secrets
):
    a = cluster["a"]
    failures: list = []
    writer = threading.Thread(target=_users, args=(a, "during-", 300, failures))

    writer.start()
    pushed = a.manage("sync_platforms")
    writer.join(timeout=300)

    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    assert not writer.is_alive() and failures == []
    wait_until(
        lambda: _arrived(cluster["b"], "User", "username", "during-") == 300,
        timeout=120,
    )
    held = cluster["b"].python(
        "from platforms.models import PlatformKey; import json; print(json.dumps("
        "PlatformKey.objects.exclude(private_key='').count()))"
    )
    assert held == 1  # its own, and nobody else's
    _flows(cluster, "keyed")


def test_retiring_the_secrets_leaves_keys_alone_and_the_old_secrets_sign_nothing(
    cluster, secrets
):
    a, b = cluster["a"], cluster["b"]

    retired = a.manage("sync_keys", "--retire-secrets")

    assert retired.returncode == 0, retired.stdout + retired.stderr
    _flows(cluster, "retired")
    for platform in (a, b):
        assert "answered 401" not in platform.log_text()
        assert platform.python(UNDELIVERED) == 0
    # The secret every platform used to hold no longer signs as A on B.
    body = json.dumps({"source": a.spec.domain, "events": []}).encode()
    headers = signed_headers(body, secret=secrets["a"], domain=a.spec.domain)
    headers["Content-Type"] = "application/json"
    answer = requests.post(
        b.url + "/sync-webhook", data=body, headers=headers, timeout=10
    )
    assert answer.status_code == 401
