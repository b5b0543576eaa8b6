import time

import pytest

from syncs.identity import NATURAL_KEY
from syncs.models import Sync
from syncs.registry import (
    SyncRoute,
    applying_from,
    registry_invalidate,
    registry_pause,
    registry_resume,
    routes_for,
)
from tests.factories import PlatformFactory, SyncFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def target(db):
    return PlatformFactory(name="B", domain="b.test")


@pytest.fixture
def other_target(db):
    return PlatformFactory(name="C", domain="c.test")


def _sync_ids(label: str = "auth.user") -> list[int]:
    return sorted(route.sync_id for route in routes_for(label))


def test_active_sync_from_this_platform_is_routed_with_what_the_listener_needs(
    current_platform, target
):
    sync = SyncFactory(
        source_platform=current_platform,
        target_platform=target,
        sync_ids=[3, "7"],
        use_transformer_class=True,
    )

    assert routes_for("auth.user") == (
        SyncRoute(
            sync_id=sync.pk,
            target_platform_id=target.pk,
            identifier=NATURAL_KEY,
            sync_ids=frozenset({"3", "7"}),
            uses_transformer=True,
        ),
    )


def test_only_active_syncs_whose_source_is_this_platform_are_routed(
    current_platform, target
):
    active = SyncFactory(source_platform=current_platform, target_platform=target)
    SyncFactory(source_platform=current_platform, target_platform=target, status=False)
    SyncFactory(source_platform=target, target_platform=current_platform)

    assert _sync_ids() == [active.pk]


def test_routes_are_kept_per_source_model(current_platform, target):
    users = SyncFactory(source_platform=current_platform, target_platform=target)
    groups = SyncFactory(
        source_platform=current_platform,
        target_platform=target,
        source_model="auth.Group",
        target_model="auth.Group",
    )

    assert _sync_ids("auth.user") == [users.pk]
    assert _sync_ids("auth.group") == [groups.pk]
    assert routes_for("auth.permission") == ()


def test_sync_of_a_model_without_usable_key_or_not_installed_is_skipped(
    current_platform, target
):
    SyncFactory(
        source_platform=current_platform,
        target_platform=target,
        source_model="webhooks.AppliedVersion",
    )
    SyncFactory(
        source_platform=current_platform,
        target_platform=target,
        source_model="nope.Missing",
    )
    users = SyncFactory(source_platform=current_platform, target_platform=target)

    assert _sync_ids() == [users.pk]
    assert routes_for("webhooks.appliedversion") == ()


def test_new_sync_takes_effect_at_once_in_this_process(
    settings, current_platform, target, other_target
):
    settings.SYNC_REGISTRY_TTL = 3600
    first = SyncFactory(source_platform=current_platform, target_platform=target)
    assert _sync_ids() == [first.pk]

    second = SyncFactory(source_platform=current_platform, target_platform=other_target)

    assert _sync_ids() == [first.pk, second.pk]


def test_disabled_sync_stops_at_once_in_this_process(
    settings, current_platform, target
):
    settings.SYNC_REGISTRY_TTL = 3600
    sync = SyncFactory(source_platform=current_platform, target_platform=target)
    assert _sync_ids() == [sync.pk]

    sync.status = False
    sync.save()

    assert _sync_ids() == []


def test_deleted_sync_stops_at_once_in_this_process(settings, current_platform, target):
    settings.SYNC_REGISTRY_TTL = 3600
    sync = SyncFactory(source_platform=current_platform, target_platform=target)
    assert _sync_ids() == [sync.pk]

    sync.delete()

    assert _sync_ids() == []


def test_sync_changed_elsewhere_takes_effect_after_the_registry_ttl(
    settings, current_platform, target
):
    settings.SYNC_REGISTRY_TTL = 3600
    sync = SyncFactory(source_platform=current_platform, target_platform=target)
    assert _sync_ids() == [sync.pk]

    # No signal: as if another process had disabled it.
    Sync.objects.filter(pk=sync.pk).update(status=False)
    assert _sync_ids() == [sync.pk]

    settings.SYNC_REGISTRY_TTL = 0.05
    time.sleep(0.1)
    assert _sync_ids() == []


def test_disabled_listener_routes_nothing(settings, current_platform, target):
    SyncFactory(source_platform=current_platform, target_platform=target)
    settings.SYNC_LISTENER_ENABLED = False

    assert routes_for("auth.user") == ()


def test_paused_registry_routes_nothing_until_resumed(current_platform, target):
    sync = SyncFactory(source_platform=current_platform, target_platform=target)

    registry_pause()
    try:
        assert routes_for("auth.user") == ()
    finally:
        registry_resume()

    assert _sync_ids() == [sync.pk]


def test_change_applied_from_a_platform_is_not_routed_back_there(
    current_platform, target, other_target
):
    SyncFactory(source_platform=current_platform, target_platform=target)
    onward = SyncFactory(source_platform=current_platform, target_platform=other_target)

    with applying_from(target.pk):
        # Loop guard: not back to B; chain: still on to C.
        assert _sync_ids() == [onward.pk]


def test_loop_guard_ends_with_its_block(current_platform, target, other_target):
    back = SyncFactory(source_platform=current_platform, target_platform=target)
    onward = SyncFactory(source_platform=current_platform, target_platform=other_target)

    with applying_from(target.pk):
        with applying_from(other_target.pk):
            assert _sync_ids() == [back.pk]
        assert _sync_ids() == [onward.pk]

    assert _sync_ids() == [back.pk, onward.pk]


def test_invalidated_registry_reloads_at_the_next_lookup(
    settings, current_platform, target
):
    settings.SYNC_REGISTRY_TTL = 3600
    sync = SyncFactory(source_platform=current_platform, target_platform=target)
    assert _sync_ids() == [sync.pk]
    Sync.objects.filter(pk=sync.pk).update(status=False)

    registry_invalidate()

    assert _sync_ids() == []
