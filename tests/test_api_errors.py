import pytest
from django.db import IntegrityError
from rest_framework import exceptions

from platforms.api.errors import api_exception_handler
from platforms.models import Platform
from tests.factories import PlatformFactory

pytestmark = pytest.mark.django_db


# --- the body of each status ----------------------------------------------------


def test_invalid_data_is_400_with_detail_per_field(admin_api):
    response = admin_api.post("/api/platforms/", {"domain": "b.test"}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid",
        "detail": "name: This field is required.",
        "fields": {"name": ["This field is required."]},
    }


def test_missing_credentials_are_401(api):
    response = api.get("/api/syncs/")
    assert response.status_code == 401
    assert response.json() == {
        "error": "not_authenticated",
        "detail": "Authentication credentials were not provided.",
    }


@pytest.mark.parametrize(
    "header", ["Bearer", "Bearer two words", "Bearer unknown", "Bearer \u00e9"]
)
def test_malformed_or_unknown_bearer_token_is_401(api, current_platform, header):
    api.credentials(HTTP_AUTHORIZATION=header.encode().decode("latin-1"))
    response = api.get("/api/syncs/")
    assert response.status_code == 401
    assert response.json()["error"] == "authentication_failed"


def test_platform_token_writing_is_403(platform_api):
    response = platform_api.delete("/api/platforms/1/")
    assert response.status_code == 403
    assert response.json() == {
        "error": "permission_denied",
        "detail": "Platform tokens may only read; changes need an admin session.",
    }


def test_unknown_id_is_404(admin_api):
    response = admin_api.get("/api/syncs/424242/")
    assert response.status_code == 404
    assert response.json() == {
        "error": "not_found",
        "detail": "No Sync matches the given query.",
    }


def test_unknown_endpoint_is_404_json(admin_api):
    response = admin_api.get("/api/nothing-here/")
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "detail": "No such endpoint."}


@pytest.mark.parametrize("page", ["999", "abc"])
def test_page_out_of_range_is_404_json(admin_api, page):
    response = admin_api.get("/api/platforms/", {"page": page})
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_unsupported_method_is_405(admin_api):
    response = admin_api.delete("/api/platforms/")
    assert response.status_code == 405
    assert response.json() == {
        "error": "method_not_allowed",
        "detail": 'Method "DELETE" not allowed.',
    }


# --- bodies that are not what they claim ------------------------------------------


@pytest.mark.parametrize("body", [b'{"name": ', b"\xff\xfe", b"not json"])
def test_malformed_json_body_is_400_and_writes_nothing(admin_api, body):
    response = admin_api.generic(
        "POST", "/api/platforms/", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"] == "parse_error"
    assert not Platform.objects.exists()


@pytest.mark.parametrize("body", [b"[]", b'"text"', b"null", b"42"])
def test_json_body_that_is_not_an_object_is_400(admin_api, body):
    response = admin_api.generic(
        "POST", "/api/syncs/", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid"
    assert "non_field_errors" in response.json()["fields"]


def test_unsupported_content_type_is_415(admin_api):
    response = admin_api.generic(
        "POST", "/api/platforms/", b"name=B", content_type="text/plain"
    )
    assert response.status_code == 415
    assert response.json()["error"] == "unsupported_media_type"


def test_patch_of_a_non_numeric_id_is_404(admin_api):
    response = admin_api.patch("/api/syncs/abc/", {"status": False}, format="json")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_wrong_types_in_fields_are_400(admin_api):
    platform = PlatformFactory()
    body = {"order": "first", "master": "maybe", "ip_address": "300.1.1.1"}
    response = admin_api.patch(f"/api/platforms/{platform.pk}/", body, format="json")
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"order", "master", "ip_address"}


# --- the handler itself --------------------------------------------------------------


def test_nested_errors_are_named_by_their_path():
    exc = exceptions.ValidationError({"field_mappings": {"a": ["Unknown field."]}})
    response = api_exception_handler(exc, {})
    assert response.data["detail"] == "field_mappings.a: Unknown field."


def test_errors_without_a_field_are_kept_under_non_field_errors():
    response = api_exception_handler(exceptions.ValidationError(["Wrong."]), {})
    assert response.data == {
        "error": "invalid",
        "detail": "Wrong.",
        "fields": {"non_field_errors": ["Wrong."]},
    }


def test_database_refusal_is_409_not_a_server_error():
    response = api_exception_handler(IntegrityError("UNIQUE constraint failed"), {})
    assert response.status_code == 409
    assert response.data["error"] == "conflict"


def test_other_exceptions_are_left_to_the_server_error_handler():
    assert api_exception_handler(RuntimeError("bug"), {}) is None


def test_list_items_in_errors_are_named_by_their_index():
    errors = {"events": [{}, {"version": ["Too small."]}], "data": {0: ["Bad."]}}

    response = api_exception_handler(exceptions.ValidationError(errors), {})

    assert response.data["detail"] == "events[1].version: Too small.; data[0]: Bad."
