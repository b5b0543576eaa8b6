"""Who may sign as a platform: its own key only, once any key of it is known here."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from platforms.keys import platform_key_issue
from platforms.models import PlatformKey
from platforms.signing import key_pair_generate
from tests.webhooks.signed import envelope, signed_headers, user_event, webhook_post
from webhooks.models import InboxEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def key(source):
    """The source's key as this platform knows it: the public half only."""
    issued = platform_key_issue(platform=source)
    private_key = issued.private_key
    PlatformKey.objects.filter(pk=issued.pk).update(private_key="")
    issued.private_key = private_key  # what the source itself holds
    return issued


def _post(client, source, material: str):
    body = envelope(source.domain, [user_event("alice")])
    headers = signed_headers(body, secret=material, domain=source.domain)
    return webhook_post(client, body, sender=source, headers=headers)


def test_a_request_signed_with_the_senders_key_is_accepted(
    client, source, user_sync, key
):
    response = _post(client, source, key.private_key)

    assert response.status_code == 202
    key.refresh_from_db()
    assert key.last_used_at is not None


def test_the_shared_secret_no_longer_signs_for_a_platform_with_a_key(
    client, source, user_sync, key
):
    """Every platform held this secret: it must not sign as the source any more."""
    response = _post(client, source, source.signing_secret)

    assert response.status_code == 401
    assert response.json()["error"] == "invalid_signature"
    assert not InboxEvent.objects.exists()


def test_another_platforms_key_does_not_sign_as_the_sender(
    client, source, user_sync, key
):
    other_private, _public = key_pair_generate()

    response = _post(client, source, other_private)

    assert response.status_code == 401
    assert not InboxEvent.objects.exists()


def test_during_a_rotation_both_keys_verify_and_after_it_only_the_new_one(
    client, source, user_sync, key
):
    new = platform_key_issue(platform=source, overlap_seconds=60)

    during = [_post(client, source, k.private_key) for k in (key, new)]
    PlatformKey.objects.filter(pk=key.pk).update(
        retires_at=timezone.now() - timedelta(seconds=1)
    )
    after_old = _post(client, source, key.private_key)
    after_new = _post(client, source, new.private_key)

    assert [r.status_code for r in during] == [202, 202]
    assert after_old.status_code == 401
    assert after_new.status_code == 202


def test_a_locked_platform_is_refused_whatever_it_signs_with(
    client, source, user_sync, key
):
    source.locked = True
    source.save()

    response = _post(client, source, key.private_key)

    assert response.status_code == 401
    assert response.json()["error"] == "platform_locked"
    assert not User.objects.filter(username="alice").exists()
    assert not InboxEvent.objects.exists()
