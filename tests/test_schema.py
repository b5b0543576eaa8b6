import re

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.urls import include, path
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

pytestmark = pytest.mark.django_db

API_PATHS = {
    "/api/platforms/",
    "/api/platforms/{id}/",
    "/api/platforms/{platform_id}/syncs/",
    "/api/syncs/",
    "/api/syncs/{id}/",
    "/api/models/",
}


def test_schema_is_served_to_a_platform_token(platform_api):
    response = platform_api.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    assert set(response.json()["paths"]) >= API_PATHS


def test_docs_page_is_served_to_staff(admin_api):
    response = admin_api.get("/api/docs/")
    assert response.status_code == 200
    assert b"swagger" in response.content.lower()


def test_schema_needs_credentials(api):
    response = api.get("/api/schema/", {"format": "json"})
    assert response.status_code == 401
    assert response.json()["error"] == "not_authenticated"


def test_docs_page_needs_credentials(api):
    assert api.get("/api/docs/").status_code == 401


def test_api_schema_generates_valid_without_warnings():
    api_urls = [
        path("api/", include("platforms.api.urls")),
        path("api/", include("syncs.api.urls")),
    ]
    GENERATOR_STATS.reset()
    schema = SchemaGenerator(patterns=api_urls).get_schema(request=None, public=True)
    assert not GENERATOR_STATS._warn_cache
    assert not GENERATOR_STATS._error_cache
    validate_schema(schema)
    assert set(schema["paths"]) == API_PATHS


def test_schema_documents_bearer_tokens_and_staff_only_credentials(platform_api):
    schema = platform_api.get("/api/schema/", {"format": "json"}).json()
    scheme = schema["components"]["securitySchemes"]["platformToken"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    platform = schema["components"]["schemas"]["Platform"]["properties"]
    assert "Staff only" in platform["api_token"]["description"]


def test_docs_page_loads_its_scripts_and_styles_from_static_files(admin_api):
    html = admin_api.get("/api/docs/").content.decode()
    urls = re.findall(r'<(?:script|link)\b[^>]*?\b(?:src|href)="([^"]+)"', html)
    assert len(urls) >= 3  # favicon, stylesheet, bundle, preset
    for url in urls:
        assert url.startswith(settings.STATIC_URL), url
        assert finders.find(url.removeprefix(settings.STATIC_URL)), url
