"""Fixtures shared by the whole suite."""

import pytest
from hypothesis import settings as hypothesis_settings
from rest_framework.test import APIClient

from platforms.conf import sync_settings
from platforms.models import Platform
from tests.factories import AdminFactory, PlatformFactory

# The property tests (hypothesis, schemathesis) run the same examples on every
# run: a test passes or fails by the code, not by chance. `make fuzz` loads
# the "fuzz" profile (pytest --hypothesis-profile=fuzz) with a fresh
# --hypothesis-seed per round, which reproduces a failure.
hypothesis_settings.register_profile(
    "derandomized", derandomize=True, database=None, print_blob=True
)
hypothesis_settings.register_profile(
    "fuzz", derandomize=False, database=None, print_blob=True
)
hypothesis_settings.load_profile("derandomized")


@pytest.fixture(autouse=True)
def _fresh_sync_caches():
    """Forget cached syncs and bindings: rolled-back tests leave no signal."""
    from syncs.bindings import bindings_reset
    from syncs.registry import registry_invalidate

    registry_invalidate()
    bindings_reset()
    yield
    registry_invalidate()
    bindings_reset()


@pytest.fixture
def current_platform(settings):
    """The Platform row this process runs as (SYNC_PLATFORM_DOMAIN)."""
    return PlatformFactory(name="A", domain=sync_settings.SYNC_PLATFORM_DOMAIN)


@pytest.fixture
def master(current_platform):
    """This process's platform, as the cluster's master."""
    Platform.objects.filter(pk=current_platform.pk).update(master=True)
    current_platform.refresh_from_db()
    return current_platform


@pytest.fixture
def admin_user(db):
    return AdminFactory()


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def api():
    """An API client without credentials."""
    return APIClient()


@pytest.fixture
def admin_api(admin_user):
    """An API client logged in as a staff user (admin session)."""
    client = APIClient()
    client.force_login(admin_user)
    return client


@pytest.fixture
def platform_api(current_platform):
    """An API client authenticated by this platform's Bearer token."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {current_platform.api_token}")
    return client
