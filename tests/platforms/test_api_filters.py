"""The platforms list narrowed by uuid and domain (how a platform finds itself)."""

import uuid

import pytest

from tests.factories import PlatformFactory

pytestmark = pytest.mark.django_db


def _domains(response) -> list[str]:
    assert response.status_code == 200
    return [p["domain"] for p in response.json()["results"]]


def test_list_narrows_by_uuid(platform_api, current_platform):
    wanted = PlatformFactory(domain="b.test")

    response = platform_api.get(f"/api/platforms/?uuid={wanted.uuid}")

    assert _domains(response) == ["b.test"]


def test_list_narrows_by_domain_whatever_its_case(platform_api, current_platform):
    PlatformFactory(domain="b.test")

    assert _domains(platform_api.get("/api/platforms/?domain=B.TEST")) == ["b.test"]


def test_unknown_uuid_lists_nothing(platform_api):
    assert _domains(platform_api.get(f"/api/platforms/?uuid={uuid.uuid4()}")) == []


def test_malformed_uuid_is_400_naming_the_parameter(platform_api):
    response = platform_api.get("/api/platforms/?uuid=nope")

    assert response.status_code == 400
    assert response.json()["error"] == "invalid"
    assert "uuid" in response.json()["detail"]


def test_a_platform_read_by_id_ignores_the_filters(platform_api, current_platform):
    url = f"/api/platforms/{current_platform.pk}/?domain=other.test"

    assert platform_api.get(url).status_code == 200
