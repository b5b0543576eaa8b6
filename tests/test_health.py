import pytest

from mooxsync.celery import app as celery_app

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker_unreachable(monkeypatch):
    """Point the Celery app at a Redis port nobody listens on (undone afterwards)."""
    # Celery's settings are a mapping; its broker URL prefers these variables.
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    monkeypatch.delenv("CELERY_BROKER_WRITE_URL", raising=False)
    monkeypatch.setitem(celery_app.conf, "broker_url", "redis://127.0.0.1:1/0")
    monkeypatch.setitem(celery_app.conf, "broker_transport_options", {})


def test_health_is_ok_on_the_embedded_defaults(client):
    response = client.get("/health/")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


def test_health_is_unavailable_when_the_broker_is_unreachable(
    client, broker_unreachable
):
    response = client.get("/health/")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["database"] == "ok"
    assert body["broker"] != "ok"


def test_broker_override_is_undone(client, settings):
    assert celery_app.conf.broker_url == settings.CELERY_BROKER_URL
    assert client.get("/health/").status_code == 200


def test_health_refuses_post(client):
    assert client.post("/health/").status_code == 405
