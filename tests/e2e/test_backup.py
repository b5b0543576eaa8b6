"""sync_backup between real platforms: drift no signal saw is found and repaired."""

import re

import pytest

from harness.cluster import Cluster
from harness.processes import wait_until

pytestmark = pytest.mark.e2e

# The privileged fields are named, so these syncs copy users whole (passwords
# and staff flags included) and the digests below compare every field.
PRIVILEGED = ("password", "is_staff", "is_superuser", "user_permissions")
SYNCS = [
    {
        "source": "s",
        "source_model": "auth.User",
        "target": "t",
        "target_model": "auth.User",
        "field_mappings": {name: name for name in PRIVILEGED},
    },
    {
        "source": "s",
        "source_model": "auth.Group",
        "target": "t",
        "target_model": "auth.Group",
        "field_mappings": {"permissions": "permissions"},
    },
]
AUTH = "from django.contrib.auth.models import User, Group; import json\n"
# Every compared field of both tables folded into one digest per table.
DIGESTS = """
import json
from django.apps import apps
from syncs.digest.hashing import buckets_encode
from syncs.digest.records import fields_comparable, model_field_names
from syncs.digest.scan import bucket_digests, model_scope
found = {}
for label in ('auth.User', 'auth.Group'):
    model = apps.get_model(label)
    fields = fields_comparable(model, model_field_names(model))
    scope = model_scope(model, identifier='natural_key', fields=fields)
    found[label] = buckets_encode(bucket_digests(scope, buckets=1).digests)
print(json.dumps(found))
"""
SNAPSHOT = AUTH + (
    "print(json.dumps({'users': sorted([u.username, u.email, u.password, "
    "sorted(u.groups.values_list('name', flat=True))] for u in User.objects.all()), "
    "'groups': sorted(Group.objects.values_list('name', flat=True))}))"
)
OUTBOX = (
    "from syncs.models import OutboxEvent; import json; print(json.dumps("
    "[OutboxEvent.objects.count(), "
    "OutboxEvent.objects.exclude(status='delivered').count()]))"
)
INBOX_IDLE = (
    "from webhooks.models import InboxEvent; import json; print(json.dumps("
    "not InboxEvent.objects.filter(status='pending').exists()))"
)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    running = Cluster(
        tmp_path_factory.mktemp("backup"),
        ["s", "t"],
        SYNCS,
        # Users carry their platforms: the backup compares those too.
        {"SYNC_MODELS_WITH_PLATFORM_RELATIONS": "auth.User"},
        redis_first=8,
    ).start()
    yield running
    running.stop()


def _backup(platform, *args: str) -> str:
    result = platform.manage("sync_backup", *args)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def _counts(report: str, model: str) -> tuple[int, ...]:
    """Return (checked, created, updated, deleted, unchanged) of one sync's line."""
    line = next(line for line in report.splitlines() if f"({model}) to" in line)
    found = re.search(
        r"checked (\d+), created (\d+), updated (\d+), deleted (\d+), "
        r"unchanged (\d+)",
        line,
    )
    return tuple(int(number) for number in found.groups())


def _settled(s, t) -> bool:
    return s.python(OUTBOX)[1] == 0 and t.python(INBOX_IDLE)


def _differences(s, t) -> dict:
    """Say which users differ and which inbox events did not apply (a message)."""
    source = {row[0]: row for row in s.python(SNAPSHOT)["users"]}
    target = {row[0]: row for row in t.python(SNAPSHOT)["users"]}
    return {
        "users differing": {
            name: (source.get(name), target.get(name))
            for name in source.keys() | target.keys()
            if source.get(name) != target.get(name)
        },
        "inbox events not applied on t": t.python(
            "from webhooks.models import InboxEvent; import json; print(json.dumps("
            "list(InboxEvent.objects.exclude(status='applied')"
            ".values_list('event_id', 'status', 'error'))))"
        ),
    }


def _drift(s, t) -> None:
    """Change both sides behind the listener's back."""
    s.python(
        AUTH + "from django.db import connection\n"
        "User.objects.filter(username__in=['u01', 'u02'])"
        ".update(email='changed@s.test')\n"
        "User.objects.bulk_create([User(username='bulk1', password='!'), "
        "User(username='bulk2', password='!')])\n"
        "Group.objects.bulk_create([Group(name='bulk-group')])\n"
        "with connection.cursor() as cursor:\n"
        '    cursor.execute("DELETE FROM auth_user_groups WHERE user_id IN '
        "(SELECT id FROM auth_user WHERE username IN ('u03', 'u04'))\")\n"
        "    cursor.execute(\"DELETE FROM auth_user WHERE username = 'u03'\")\n"
    )
    t.python(
        "from django.db import connection\n"
        "with connection.cursor() as cursor:\n"
        '    cursor.execute("DELETE FROM auth_user_groups WHERE user_id IN '
        "(SELECT id FROM auth_user WHERE username = 'u05')\")\n"
        "    cursor.execute(\"DELETE FROM auth_user WHERE username = 'u05'\")\n"
    )


def test_bad_arguments_are_clear_command_errors(cluster):
    unknown = cluster["s"].manage("sync_backup", "--sync", "999")
    elsewhere = cluster["t"].manage("sync_backup", "--sync", "1")

    assert unknown.returncode != 0 and "no sync with id 999" in unknown.stderr
    assert elsewhere.returncode != 0 and "back it up there" in elsewhere.stderr


def test_drift_is_repaired_and_a_dry_run_changes_nothing(cluster):
    s, t = cluster["s"], cluster["t"]
    s.python(
        AUTH + "crew = Group.objects.create(name='crew')\n"
        "for i in range(30):\n"
        "    u = User.objects.create_user(f'u{i:02d}', f'u{i}@s.test', 'pw-12345678')\n"
        "    u.groups.add(crew)\n"
    )
    wait_until(lambda: len(t.python(SNAPSHOT)["users"]) == 31, timeout=60)
    wait_until(lambda: _settled(s, t), timeout=60)
    _drift(s, t)
    assert s.python(DIGESTS) != t.python(DIGESTS)
    target_before, outbox_before = t.python(SNAPSHOT), s.python(OUTBOX)

    dry = _backup(s, "--dry-run")

    # Users: bulk1, bulk2 and u05 (lost on t) are missing there; u01, u02 (email)
    # and u04 (groups) differ; u03 is gone. (admin travelled when it was made.)
    assert _counts(dry, "auth.User") == (32, 3, 3, 1, 26), _differences(s, t)
    assert _counts(dry, "auth.Group") == (2, 1, 0, 0, 1)
    assert "dry run: nothing written" in dry
    assert s.python(OUTBOX) == outbox_before
    assert t.python(SNAPSHOT) == target_before

    repaired = _backup(s)

    assert _counts(repaired, "auth.User") == (32, 3, 3, 1, 26)
    wait_until(lambda: _settled(s, t), timeout=60)
    wait_until(lambda: s.python(DIGESTS) == t.python(DIGESTS), timeout=60)
    assert t.python(SNAPSHOT) == s.python(SNAPSHOT)

    again = _backup(s)

    assert _counts(again, "auth.User") == (32, 0, 0, 0, 32)
    assert _counts(again, "auth.Group") == (2, 0, 0, 0, 2)
    assert "repair 0 B in 0 webhooks" in again


RELATED = (
    "from platforms.models import PlatformRelation; import json; print(json.dumps("
    "sorted(PlatformRelation.objects.values_list('object_id', 'platform__domain'))))"
)


def test_platform_relations_written_behind_the_listener_are_repaired(cluster):
    s, t = cluster["s"], cluster["t"]
    wait_until(lambda: _settled(s, t), timeout=60)
    s.python(
        AUTH + "from platforms.models import Platform, PlatformRelation\n"
        "PlatformRelation.objects.bulk_create([PlatformRelation(\n"
        "    record=User.objects.get(username='u10'),\n"
        "    platform=Platform.objects.get(master=False))])\n"
    )

    repaired = _backup(s)

    assert _counts(repaired, "auth.User") == (32, 0, 1, 0, 31)
    wait_until(lambda: _settled(s, t), timeout=60)
    user_pk = t.python(AUTH + "print(User.objects.get(username='u10').pk)")
    assert t.python(RELATED) == [[str(user_pk), t.spec.domain]]
    assert _counts(_backup(s), "auth.User") == (32, 0, 0, 0, 32)
