"""Integers past a signed 64-bit range: a JSON 4xx wherever they come in, never a 500.

SQLite's driver raises OverflowError for them, PostgreSQL and MariaDB refuse
the query; each test runs on whichever database the suite runs on.
"""

import pytest
from django.urls import reverse

from platforms.api.integers import INT64_MAX, IdConverter
from platforms.conf import sync_settings
from syncs.models import Sync
from tests.factories import PlatformFactory, SyncFactory

pytestmark = pytest.mark.django_db

HUGE = ["99999999999999999999", str(INT64_MAX + 1), str(2**64), "9" * 400]
NEGATIVE = ["-1", str(-(2**63) - 1)]


@pytest.fixture
def rows(current_platform):
    return SyncFactory(source_platform=current_platform)


def _refused(response, status: int) -> dict:
    assert response.status_code == status, response.content[:300]
    body = response.json()
    assert body["error"] and body["detail"]
    return body


@pytest.mark.parametrize("number", HUGE + NEGATIVE + ["0"])
@pytest.mark.parametrize("name", ["source_platform", "target_platform"])
def test_platform_filter_past_the_id_range_is_400(admin_api, rows, name, number):
    body = _refused(admin_api.get("/api/syncs/", {name: number}), 400)
    assert name in body["fields"]


def test_platform_filter_at_the_largest_id_finds_nothing(platform_api, rows):
    response = platform_api.get("/api/syncs/", {"target_platform": str(INT64_MAX)})

    assert response.status_code == 200
    assert response.json()["results"] == []


@pytest.mark.parametrize("number", HUGE)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        *[(method, "/api/syncs/{}/") for method in ("get", "patch", "delete")],
        *[(method, "/api/platforms/{}/") for method in ("get", "patch", "delete")],
        ("get", "/api/platforms/{}/syncs/"),
    ],
)
def test_id_past_the_range_in_a_path_is_404(admin_api, rows, path, number, method):
    response = getattr(admin_api, method)(path.format(number), {}, format="json")

    _refused(response, 404)
    assert Sync.objects.count() == 1


def test_largest_id_in_a_path_is_an_ordinary_unknown_id(admin_api, rows):
    response = admin_api.get(f"/api/syncs/{INT64_MAX}/")

    assert _refused(response, 404)["detail"] == "No Sync matches the given query."


@pytest.mark.parametrize("value", ["99999999999999999999", "1" + "0" * 19])
def test_id_converter_refuses_numbers_past_the_range(value):
    with pytest.raises(ValueError):
        IdConverter().to_python(value)


@pytest.mark.parametrize(
    "body",
    [
        {"source_platform": 10**20},
        {"target_platform": -(10**20)},
        {"interval": 10**20},
        {"interval": -(10**20)},
    ],
    ids=str,
)
def test_integer_past_the_range_in_a_sync_body_is_400(admin_api, rows, body):
    response = admin_api.patch(f"/api/syncs/{rows.pk}/", body, format="json")

    assert set(_refused(response, 400)["fields"]) == set(body)


@pytest.mark.parametrize("order", [10**20, -(10**20)])
def test_integer_past_the_range_in_a_platform_body_is_400(admin_api, rows, order):
    platform = PlatformFactory()

    response = admin_api.patch(
        f"/api/platforms/{platform.pk}/", {"order": order}, format="json"
    )

    assert set(_refused(response, 400)["fields"]) == {"order"}


@pytest.mark.parametrize("number", HUGE + NEGATIVE)
def test_admin_models_view_with_a_platform_past_the_range_is_4xx(
    admin_client, rows, number
):
    response = admin_client.get(
        reverse("admin:syncs_sync_models"), {"platform": number}
    )

    assert 400 <= response.status_code < 500
    assert response.json()["error"]


@pytest.mark.parametrize("number", HUGE + NEGATIVE)
def test_admin_compatibility_view_with_a_platform_past_the_range_is_400(
    admin_client, rows, number
):
    query = {
        "source_platform": number,
        "source_model": "auth.User",
        "target_platform": number,
        "target_model": "auth.User",
    }

    response = admin_client.get(reverse("admin:syncs_sync_compatibility"), query)

    assert response.status_code == 400
    assert "source_platform" in response.json()["detail"]


# --- DEBUG=true: a bug under /api/ still answers JSON ---------------------------------


@pytest.fixture
def broken_sync_list(monkeypatch):
    """A bug in the syncs API, as the OverflowError of issue 12 was."""

    def explode(**filters):
        raise OverflowError("Python int too large to convert to SQLite INTEGER")

    monkeypatch.setattr("syncs.api.views.sync_list", explode)


def test_bug_under_api_with_debug_answers_json(
    admin_api, rows, settings, broken_sync_list
):
    settings.DEBUG = True
    admin_api.raise_request_exception = False  # answer as a server would

    response = admin_api.get("/api/syncs/")

    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["error"] == "server_error"
    assert body["detail"].startswith("OverflowError: Python int too large")
    assert any("explode" in line for line in body["traceback"])


def test_bug_under_api_with_debug_still_reaches_the_test_client(
    admin_api, rows, settings, broken_sync_list
):
    """Django's got_request_exception is sent: tests and error trackers see it."""
    settings.DEBUG = True

    with pytest.raises(OverflowError):
        admin_api.get("/api/syncs/")


def test_bug_in_a_signed_endpoint_with_debug_answers_json(
    client, settings, monkeypatch
):
    settings.DEBUG = True
    client.raise_request_exception = False

    def explode(request, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr("webhooks.signed.signed_request_read", explode)

    response = client.post(sync_settings.SYNC_WEBHOOK_URL, b"{}", "application/json")

    assert response.status_code == 500
    assert response.json()["error"] == "server_error"


@pytest.mark.parametrize(
    "path",
    [
        "/api/platforms/not-a-number/",
        "/api/syncs/1/nothing/",
        "/api/models/x/",
        "/api/schema/x/",
        f"{sync_settings.SYNC_WEBHOOK_URL}/nothing/",
    ],
)
def test_unknown_url_under_the_sync_prefixes_with_debug_answers_json(
    admin_api, settings, path
):
    settings.DEBUG = True

    response = admin_api.get(path)

    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "detail": "No such endpoint."}


def test_the_rest_of_api_is_left_to_the_site(admin_api, settings):
    settings.DEBUG = True

    response = admin_api.get("/api/the-sites-own/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_a_missing_slash_is_still_added_under_the_sync_prefixes(admin_api):
    response = admin_api.get("/api/platforms/1")

    assert response.status_code == 301
    assert response["Location"] == "/api/platforms/1/"
