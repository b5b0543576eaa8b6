"""schemathesis against the API's own OpenAPI schema: no 5xx, answers as documented.

Every operation of /api/schema/ is called with generated (valid and invalid)
input three ways: without credentials, with a platform's Bearer token and
with a staff user's session. The application runs in-process (WSGI) on the
test database. The schema is the one /api/schema/ serves (ids as integers up
to 2**63 - 1), so past the range is among the invalid input.

The examples are the same on every run (tests/conftest.py derandomizes);
`make fuzz` passes a fresh --hypothesis-seed each round, which seeds the
generation here too, so the seed it prints reproduces a failure.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.settings import patched_settings
from hypothesis import HealthCheck, core, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from platforms.api.views import SyncSchemaView
from platforms.conf import sync_settings
from tests.factories import AdminFactory, PlatformFactory, SyncFactory

pytestmark = pytest.mark.django_db

with patched_settings(SyncSchemaView.custom_settings):
    served = SchemaGenerator(urlconf=SyncSchemaView.urlconf).get_schema(public=True)
schema = schemathesis.openapi.from_dict(served)
schema.app = get_wsgi_application()
if core.global_force_seed is not None:  # pytest --hypothesis-seed=N
    schema.config.seed = int(core.global_force_seed)
CHECKS = [not_a_server_error, content_type_conformance, response_schema_conformance]
FUZZ = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Keep Django from closing the test's connection after each WSGI call.

    Django's test client does the same: the app runs in the test's own
    transaction, which a closed connection would end (seen on PostgreSQL).
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def rows(db, settings):
    """A few rows for the generated ids to hit now and then."""
    this = PlatformFactory(domain=sync_settings.SYNC_PLATFORM_DOMAIN)
    SyncFactory(source_platform=this)
    return this


def _session_cookie(client) -> dict:
    client.force_login(AdminFactory())
    return {"sessionid": client.cookies["sessionid"].value}


@schema.parametrize()
@FUZZ
def test_no_credentials_never_a_server_error(case, rows):
    case.call_and_validate(checks=CHECKS)


@schema.parametrize()
@FUZZ
def test_platform_token_never_a_server_error(case, rows):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {rows.api_token}"}, checks=CHECKS
    )


@schema.parametrize()
@FUZZ
def test_admin_session_never_a_server_error(case, rows, client):
    response = case.call(cookies=_session_cookie(client))
    case.validate_response(response, checks=CHECKS)
