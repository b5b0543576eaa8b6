import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from platforms.conf import sync_settings
from syncs.catalog import CatalogUnavailable, model_find, platform_models
from tests.factories import PlatformFactory
from tests.syncs.webhook_peer import closed_domain

pytestmark = pytest.mark.django_db


@pytest.fixture
def answering():
    """Start an HTTP server answering every GET with (status, body); yield domain."""
    answer = {"status": 200, "body": b"[]", "headers": []}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            answer["headers"].append(dict(self.headers))
            self.send_response(answer["status"])
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(answer["body"])

        def log_message(self, format, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    answer["domain"] = f"127.0.0.1:{server.server_port}"
    yield answer
    server.shutdown()
    server.server_close()


def labels(models: list[dict]) -> list[str]:
    return [model["label"] for model in models]


def test_this_platform_reads_its_own_models(current_platform):
    models = platform_models(platform=current_platform)
    assert "auth.User" in labels(models)
    assert "sessions.Session" not in labels(models)
    user = model_find(models, "auth.user")  # labels match in any case
    fields = {field["name"]: field["type"] for field in user["fields"]}
    assert fields["username"] == "CharField"


@pytest.mark.django_db(transaction=True)
def test_another_platform_is_asked_over_its_api(live_server, settings):
    PlatformFactory(domain=sync_settings.SYNC_PLATFORM_DOMAIN)
    remote = PlatformFactory(domain=live_server.url.removeprefix("http://"))
    assert "auth.User" in labels(platform_models(platform=remote))


def test_the_request_carries_this_platforms_token(current_platform, answering):
    answering["body"] = b'[{"label": "shop.Order", "fields": []}]'
    remote = PlatformFactory(domain=answering["domain"])
    assert labels(platform_models(platform=remote)) == ["shop.Order"]
    sent = answering["headers"][0]["Authorization"]
    assert sent == f"Bearer {current_platform.api_token}"


def test_an_unreachable_platform_says_where_and_why(current_platform):
    remote = PlatformFactory(name="Far", domain=closed_domain())
    with pytest.raises(CatalogUnavailable) as caught:
        platform_models(platform=remote)
    detail = caught.value.detail
    assert detail.startswith(
        f"The platform Far could not be reached at http://{remote.domain}/"
    )
    assert "Connection refused" in detail


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (403, b'{"error": "forbidden"}', "answered 403"),
        (200, b"<html>", "did not answer with a list of models"),
        (200, b'[{"name": "x"}]', "did not answer with a list of models"),
    ],
)
def test_a_wrong_answer_is_reported(
    current_platform, answering, status, body, expected
):
    answering.update(status=status, body=body)
    remote = PlatformFactory(domain=answering["domain"])
    with pytest.raises(CatalogUnavailable) as caught:
        platform_models(platform=remote)
    assert expected in caught.value.detail


def test_without_a_token_of_its_own_nothing_is_asked(settings, answering):
    PlatformFactory(domain=sync_settings.SYNC_PLATFORM_DOMAIN, api_token=None)
    remote = PlatformFactory(domain=answering["domain"])
    with pytest.raises(CatalogUnavailable) as caught:
        platform_models(platform=remote)
    assert "no Platform row with an API token" in caught.value.detail
    assert answering["headers"] == []
