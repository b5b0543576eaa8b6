"""Secrets (API tokens, private keys, shared secrets) never leave in answers or logs."""

import logging
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from platforms.conf import sync_settings
from platforms.keys import platform_key_issue
from tests.factories import PlatformFactory, SyncFactory
from tests.webhooks.signed import envelope, user_event, webhook_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def platforms(settings):
    here = PlatformFactory(name="A", domain=sync_settings.SYNC_PLATFORM_DOMAIN)
    other = PlatformFactory(name="B", domain="b.test", master=True)
    SyncFactory(source_platform=other, target_platform=here)
    for platform in (here, other):
        platform_key_issue(platform=platform)
    return [here, other]


def _secrets(platforms) -> list[str]:
    found = []
    for platform in platforms:
        found += [platform.api_token, platform.signing_secret]
        found.append(platform.signing_secret.removeprefix("whsec_"))
        for private_key in platform.keys.values_list("private_key", flat=True):
            found += [private_key, private_key.removeprefix("whsk_")]
    return found


def _leaks(text: str, platforms) -> list[str]:
    return [secret for secret in _secrets(platforms) if secret in text]


def test_api_answers_to_a_platform_carry_no_secret(client, platforms):
    here, other = platforms
    auth = {"HTTP_AUTHORIZATION": f"Bearer {other.api_token}"}
    urls = [
        "/api/platforms/",
        f"/api/platforms/{here.pk}/",
        f"/api/platforms/{other.pk}/syncs/",
        "/api/syncs/",
        "/api/models/",
        "/api/schema/",
    ]
    for url in urls:
        answer = client.get(url, **auth)
        assert answer.status_code == 200, url
        assert _leaks(answer.content.decode(), platforms) == [], url


def test_webhook_refusals_carry_no_secret(client, platforms, caplog):
    here, other = platforms
    caplog.set_level(logging.DEBUG)
    body = envelope(other.domain, [user_event("mallory")])
    answers = [
        webhook_post(client, body, sender=other, headers={"webhook-signature": "v1,x"}),
        webhook_post(client, body, sender=here),  # unknown sync direction
        webhook_post(client, b"{", sender=other),
    ]
    for answer in answers:
        assert 400 <= answer.status_code < 500
        assert _leaks(answer.content.decode(), platforms) == []
    assert _leaks(caplog.text, platforms) == []


def test_admin_lists_show_no_token(admin_client, platforms):
    page = admin_client.get(reverse("admin:platforms_platform_changelist"))
    assert page.status_code == 200
    assert _leaks(page.content.decode(), platforms) == []


def test_platform_pages_show_public_keys_never_private_ones(admin_client, platforms):
    for platform in platforms:
        url = reverse("admin:platforms_platform_change", args=[platform.pk])
        page = admin_client.get(url).content.decode()
        key = platform.keys.get()
        assert key.public_key[:17] in page
        assert key.private_key.removeprefix("whsk_") not in page


def test_sync_keys_prints_no_private_key(platforms):
    out = StringIO()
    call_command("sync_keys", stdout=out)

    assert _leaks(out.getvalue(), platforms) == []
