"""Fixtures shared by the whole suite."""

import pytest

from tests.factories import AdminFactory, PlatformFactory


@pytest.fixture
def current_platform(settings):
    """The Platform row this process runs as (SYNC_PLATFORM_DOMAIN)."""
    return PlatformFactory(name="A", domain=settings.SYNC_PLATFORM_DOMAIN)


@pytest.fixture
def admin_user(db):
    return AdminFactory()


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client
