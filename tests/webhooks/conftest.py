"""Fixtures of the receiving side: this platform (a.test) receives from b.test."""

import pytest

from tests.factories import PlatformFactory, SyncFactory


@pytest.fixture
def source(db):
    """The platform that sends changes to this one."""
    return PlatformFactory(name="B", domain="b.test")


@pytest.fixture
def user_sync(source, current_platform):
    """An active sync of auth.User from the source to this platform."""
    return SyncFactory(source_platform=source, target_platform=current_platform)


@pytest.fixture
def doc_sync(source, current_platform):
    """An active sync of demoapp.Document from the source to this platform."""
    return SyncFactory(
        source_platform=source,
        target_platform=current_platform,
        source_model="demoapp.Document",
        target_model="demoapp.Document",
    )
