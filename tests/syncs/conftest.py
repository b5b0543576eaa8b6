"""Fixtures shared by the syncs tests: a target platform and a user sync to it."""

import pytest

from tests.factories import PlatformFactory, SyncFactory


@pytest.fixture
def target(db):
    return PlatformFactory(name="B", domain="b.test")


@pytest.fixture
def user_sync(current_platform, target):
    return SyncFactory(source_platform=current_platform, target_platform=target)
