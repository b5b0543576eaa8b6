"""A saving process killed between its autocommit and the outbox loses nothing."""

import signal

import pytest

from harness.cluster import Cluster
from harness.processes import wait_until

pytestmark = pytest.mark.e2e

SYNCS = [
    {
        "source": "crash_a",
        "source_model": "auth.User",
        "target": "crash_b",
        "target_model": "auth.User",
    },
]
# Intents of dead saves are recovered after a second, by a relay every second.
FAST_RECOVERY = {"SYNC_INTENT_TIMEOUT": "1", "SYNC_RELAY_FREQUENCY": "1"}
USER = "from django.contrib.auth.models import User; import json; "
# Dies of SIGKILL in the save's post_save, after its commit and before the
# listener's receiver: disconnected, the killer connected, then reconnected.
KILLED_IN_POST_SAVE = """
import os, signal
from django.contrib.auth.models import User
from django.db import connection
from django.db.models.signals import post_save
from syncs.signals import record_saved

def die(sender, instance, **kwargs):
    if sender is User and not connection.in_atomic_block:
        os.kill(os.getpid(), signal.SIGKILL)

post_save.disconnect(dispatch_uid="mooxsync.record_saved")
post_save.connect(die, weak=False, dispatch_uid="test.die")
post_save.connect(record_saved, dispatch_uid="mooxsync.record_saved")
"""


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    # Redis databases 3 and 4: the other e2e modules use 0, 1 and 5 to 15.
    running = Cluster(
        tmp_path_factory.mktemp("crash"),
        ["crash_a", "crash_b"],
        SYNCS,
        extra_env=FAST_RECOVERY,
        redis_first=3,
    ).start()
    yield running
    running.stop()


def _email_of(platform, username: str) -> str | None:
    return platform.python(
        USER + f"u = User.objects.filter(username={username!r}).first(); "
        "print(json.dumps(u and u.email))"
    )


def _save_killed(platform, code: str) -> None:
    """Run ``code`` in a process killed right after its save's commit."""
    process = platform.python_run(KILLED_IN_POST_SAVE + code)
    assert process.returncode == -signal.SIGKILL, process.stderr[-3000:]


def test_create_committed_by_a_killed_process_reaches_the_target(cluster):
    a, b = cluster["crash_a"], cluster["crash_b"]

    _save_killed(a, "User.objects.create_user('kim', 'kim@a.test', 'pw-kim-1234')")

    assert _email_of(a, "kim") == "kim@a.test"  # committed before the kill
    wait_until(lambda: _email_of(b, "kim") == "kim@a.test", timeout=60)


def test_update_committed_by_a_killed_process_reaches_the_target(cluster):
    a, b = cluster["crash_a"], cluster["crash_b"]
    a.python(USER + "User.objects.create_user('lee', 'lee@a.test', 'pw-lee-1234')")
    wait_until(lambda: _email_of(b, "lee") == "lee@a.test", timeout=60)

    _save_killed(
        a,
        "u = User.objects.get(username='lee'); u.email = 'lee@new.test'; u.save()",
    )

    assert _email_of(a, "lee") == "lee@new.test"
    wait_until(lambda: _email_of(b, "lee") == "lee@new.test", timeout=60)
