from dataclasses import dataclass

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from platforms import services
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PUSH_URL = reverse("admin:platforms_platform_push")
CHANGELIST_URL = reverse("admin:platforms_platform_changelist")


@dataclass(frozen=True)
class Outcome:
    domain: str
    ok: bool
    detail: str


def messages_of(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


def test_the_changelist_offers_the_button(admin_client):
    html = admin_client.get(CHANGELIST_URL).content.decode()
    assert f'action="{PUSH_URL}"' in html
    assert "Sync platforms now" in html


def test_syncing_platforms_reports_each_target(admin_client, monkeypatch):
    monkeypatch.setattr(
        services,
        "platforms_push_all",
        lambda: [
            Outcome("b.test", True, "1 created, 0 updated, 0 deleted"),
            Outcome("c.test", False, "c.test answered 503"),
        ],
    )
    response = admin_client.post(PUSH_URL, follow=True)
    assert response.redirect_chain == [(CHANGELIST_URL, 302)]
    assert messages_of(response) == [
        ("success", "b.test: 1 created, 0 updated, 0 deleted"),
        ("warning", "c.test: c.test answered 503"),
    ]


def test_a_refused_push_is_reported(admin_client, monkeypatch):
    def refuse():
        raise RuntimeError("This platform is not the master.")

    monkeypatch.setattr(services, "platforms_push_all", refuse)
    response = admin_client.post(PUSH_URL, follow=True)
    assert messages_of(response) == [
        ("error", "Syncing platforms failed: This platform is not the master.")
    ]


def test_without_the_push_service_the_button_says_so(admin_client, monkeypatch):
    monkeypatch.delattr(services, "platforms_push_all", raising=False)
    [(level, text)] = messages_of(admin_client.post(PUSH_URL, follow=True))
    assert level == "error"
    assert "platforms.services.platforms_push_all could not be loaded" in text


def test_pushing_needs_a_post_and_the_change_permission(client, admin_client):
    assert admin_client.get(PUSH_URL).status_code == 405
    client.force_login(UserFactory(is_staff=True))
    assert client.post(PUSH_URL).status_code == 403


def test_the_real_push_service_explains_why_it_did_not_run(
    admin_client, current_platform
):
    [(level, text)] = messages_of(admin_client.post(PUSH_URL, follow=True))
    assert level == "error"  # this platform is no master: nothing is pushed
    assert text.startswith("Syncing platforms failed:")
    assert "TypeError" not in text
