"""A mixed workload, run inside the source platform's Django.

Each function runs there through ``PlatformProcess.call`` (harness.cluster).
``run`` makes CHANGES changes to users named PREFIX*, spread over about
SECONDS: creates, updates, deletes and group (many-to-many) edits, each in its
own transaction. ``digest`` returns the state of those users, the same on
every platform, so two platforms can be compared row by row. ``seed`` creates
COUNT users behind the listener's back (bulk_create); ``fill`` starts (with
``start``) or reads the initial fill of the auth.User sync, and returns its
state.
"""

import random
import time

GROUPS = ("blue", "green")


def run(prefix: str, changes: int, seconds: float) -> dict:
    """Make ``changes`` mixed changes; return how many of each kind."""
    from django.contrib.auth.models import Group, User
    from django.db import transaction

    rng = random.Random(prefix)
    groups = [Group.objects.get_or_create(name=name)[0] for name in GROUPS]
    alive: list[int] = []
    counts = {"create": 0, "update": 0, "delete": 0, "m2m": 0}
    pause = seconds / max(changes, 1)
    for step in range(changes):
        kind = _kind(rng, alive)
        with transaction.atomic():
            if kind == "create":
                user = User.objects.create(
                    username=f"{prefix}{step}", email=f"{step}@0", password="!"
                )
                alive.append(user.pk)
            elif kind == "update":
                user = User.objects.get(pk=rng.choice(alive))
                user.email = f"{step}@{user.username}"
                user.save()
            elif kind == "delete":
                User.objects.filter(pk=alive.pop(rng.randrange(len(alive)))).delete()
            else:
                user = User.objects.get(pk=rng.choice(alive))
                group = rng.choice(groups)
                if user.groups.filter(pk=group.pk).exists():
                    user.groups.remove(group)
                else:
                    user.groups.add(group)
        counts[kind] += 1
        time.sleep(pause)
    return counts


def _kind(rng: random.Random, alive: list[int]) -> str:
    if len(alive) < 20:
        return "create"
    return rng.choices(["create", "update", "delete", "m2m"], [4, 3, 1, 2])[0]


def digest(prefix: str) -> list:
    """Return every PREFIX* user as [username, email, active, groups], sorted."""
    from django.contrib.auth.models import User

    users = User.objects.filter(username__startswith=prefix).prefetch_related("groups")
    return sorted(
        [u.username, u.email, u.is_active, sorted(g.name for g in u.groups.all())]
        for u in users
    )


def seed(prefix: str, count: int) -> dict:
    """Create ``count`` PREFIX* users at once, unseen by the listener."""
    from django.contrib.auth.models import User

    User.objects.bulk_create(
        User(username=f"{prefix}{i:06d}", email=f"{prefix}{i}@example.test")
        for i in range(count)
    )
    return {"created": count}


def fill(start: bool = False) -> dict:
    """Start (or just read) the auth.User sync's fill; return its state.

    ``rows``: the outbox rows written since the fill's first, all delivered
    or not: a fill that started over, or wrote a page twice, writes more than
    ``total``.
    """
    from syncs.fill import fill_start
    from syncs.models import OutboxEvent, Sync, SyncFill

    sync = Sync.objects.get(source_model="auth.User")
    if start:
        fill_start(sync)
    state = SyncFill.objects.get(pk=sync.pk)
    rows = OutboxEvent.objects.filter(sync=sync, pk__gte=state.first_outbox_pk or 0)
    return {
        "status": state.status,
        "error": state.error,
        "total": state.total,
        "queued": state.queued,
        "delivered": state.delivered,
        "rows": rows.count() if state.first_outbox_pk else 0,
        "started_at": state.started_at.isoformat(),
    }
