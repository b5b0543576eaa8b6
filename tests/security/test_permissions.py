"""The API's permission model, as the README states it.

- Nobody without credentials: 401.
- A platform (Bearer token of a known platform): reads everything except
  credentials; changes nothing (403).
- A signed-in user who is not staff: 403.
- Staff (an admin session): everything, including creating the master and
  setting tokens.
"""

import pytest
from rest_framework.test import APIClient

from platforms.models import Platform
from syncs.models import Sync
from tests.factories import PlatformFactory, SyncFactory, UserFactory

pytestmark = pytest.mark.django_db

WRITES = [
    ("post", "/api/platforms/", {"name": "M", "domain": "m.test", "master": True}),
    ("patch", "/api/platforms/{platform}/", {"api_token": "x" * 40}),
    ("delete", "/api/platforms/{platform}/", None),
    ("patch", "/api/syncs/{sync}/", {"status": False}),
    ("delete", "/api/syncs/{sync}/", None),
]


@pytest.fixture
def rows():
    platform = PlatformFactory()
    return {"platform": platform, "sync": SyncFactory(source_platform=platform)}


def _state():
    return (
        list(Platform.objects.values_list("name", "master", "api_token")),
        list(Sync.objects.values_list("pk", "status")),
    )


def _call(client, method, url, data, rows):
    url = url.format(platform=rows["platform"].pk, sync=rows["sync"].pk)
    return getattr(client, method)(url, data, format="json")


@pytest.mark.parametrize(("method", "url", "data"), WRITES)
def test_a_platform_token_changes_nothing(rows, method, url, data):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {rows['platform'].api_token}")
    before = _state()
    assert _call(client, method, url, data, rows).status_code == 403
    assert _state() == before


@pytest.mark.parametrize(("method", "url", "data"), WRITES)
def test_a_user_who_is_not_staff_changes_nothing(rows, method, url, data):
    client = APIClient()
    client.force_login(UserFactory())
    before = _state()
    assert _call(client, method, url, data, rows).status_code == 403
    assert _state() == before


@pytest.mark.parametrize(("method", "url", "data"), WRITES)
def test_nobody_without_credentials_changes_anything(rows, method, url, data):
    before = _state()
    assert _call(APIClient(), method, url, data, rows).status_code == 401
    assert _state() == before


def test_staff_may_create_the_master_and_set_tokens(admin_api):
    answer = admin_api.post(
        "/api/platforms/",
        {"name": "M", "domain": "m.test", "master": True, "api_token": "t" * 40},
        format="json",
    )
    assert answer.status_code == 201
    created = Platform.objects.get(domain="m.test")
    assert (created.master, created.api_token) == (True, "t" * 40)
