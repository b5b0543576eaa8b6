"""HTTP between platforms: the signed POST and the API GET, against real peers."""

import pytest

from platforms.keys import platform_key_issue
from platforms.signing import signature_verify
from platforms.transport import ApiError, api_get, envelope_send, retry_delay
from tests.factories import PlatformFactory
from tests.syncs.master_peer import MasterPeer
from tests.syncs.webhook_peer import Answer, WebhookPeer, closed_domain

pytestmark = pytest.mark.django_db


@pytest.fixture
def peer():
    with WebhookPeer() as peer:
        yield peer


@pytest.fixture
def master_peer():
    with MasterPeer() as peer:
        peer.api.tokens = {"good-token"}
        peer.api.platforms = [{"id": 7, "uuid": "u", "domain": "a.test"}]
        yield peer


def _signed_by(request, secret: str = "", public_key: str = "") -> bool:
    try:
        signature_verify(
            secrets=[secret] if secret else [],
            public_keys=[public_key] if public_key else [],
            msg_id=request.headers["webhook-id"],
            timestamp=request.headers["webhook-timestamp"],
            signature_header=request.headers["webhook-signature"],
            body=request.body,
            tolerance=300,
        )
    except Exception:
        return False
    return True


def test_envelope_is_signed_by_the_source_and_each_further_secret(peer):
    source, target = PlatformFactory(), PlatformFactory(domain=peer.domain)
    further = PlatformFactory().signing_secret

    result = envelope_send(
        source=source, target=target, body=b"{}", also_signed_with=[further]
    )

    assert result.ok
    (request,) = peer.requests
    assert _signed_by(request, source.signing_secret)
    assert _signed_by(request, further)
    assert not _signed_by(request, PlatformFactory().signing_secret)


def test_a_source_signs_with_every_active_key_and_its_secret_while_it_has_one(peer):
    source, target = PlatformFactory(), PlatformFactory(domain=peer.domain)
    old = platform_key_issue(platform=source)
    new = platform_key_issue(platform=source, overlap_seconds=60)

    envelope_send(source=source, target=target, body=b"{}")

    (request,) = peer.requests
    schemes = [p.split(",")[0] for p in request.headers["webhook-signature"].split()]
    assert sorted(schemes) == ["v1", "v1a", "v1a"]  # the secret: while upgrading
    assert _signed_by(request, public_key=old.public_key)
    assert _signed_by(request, public_key=new.public_key)
    assert _signed_by(request, source.signing_secret)


def test_a_source_of_a_new_cluster_signs_with_its_key_alone(peer):
    source = PlatformFactory(signing_secret="")
    key = platform_key_issue(platform=source)

    envelope_send(source=source, target=PlatformFactory(domain=peer.domain), body=b"{}")

    (request,) = peer.requests
    assert request.headers["webhook-signature"].startswith("v1a,")
    assert len(request.headers["webhook-signature"].split()) == 1
    assert _signed_by(request, public_key=key.public_key)


def test_json_answer_of_the_target_is_kept(peer):
    peer.answer(Answer(status=200, body=b'{"created": ["x.test"]}'))
    target = PlatformFactory(domain=peer.domain)

    result = envelope_send(source=PlatformFactory(), target=target, body=b"{}")

    assert result.answer == {"created": ["x.test"]}


def test_api_get_sends_the_token_and_returns_the_json(master_peer):
    master = PlatformFactory(domain=master_peer.domain)

    answer = api_get(
        platform=master,
        path="/api/platforms/",
        token="good-token",
        params={"domain": "a.test"},
    )

    assert answer["results"] == [{"id": 7, "uuid": "u", "domain": "a.test"}]
    (request,) = master_peer.api.requests
    assert request.headers["authorization"] == "Bearer good-token"
    assert request.query == {"domain": "a.test"}


def test_api_get_refused_names_the_url_and_the_status(master_peer):
    master = PlatformFactory(domain=master_peer.domain)

    with pytest.raises(ApiError, match=r"/api/platforms/ answered 401"):
        api_get(platform=master, path="/api/platforms/", token="bad")


def test_api_get_of_an_unreachable_platform_names_the_url():
    domain = closed_domain()
    platform = PlatformFactory(domain=domain)

    with pytest.raises(ApiError, match=f"http://{domain}/api/x/ is unreachable"):
        api_get(platform=platform, path="/api/x/", token="t")


def test_api_get_of_something_that_is_no_api_fails_naming_the_status(peer):
    platform = PlatformFactory(domain=peer.domain)

    # The webhook peer answers GET with 501 (no handler): not our API at all.
    with pytest.raises(ApiError, match="answered 501"):
        api_get(platform=platform, path="/api/x/", token="t")


@pytest.mark.parametrize(("attempts", "ceiling"), [(1, 2), (2, 4), (5, 32), (12, 600)])
def test_the_backoff_doubles_per_attempt_up_to_the_maximum(attempts, ceiling):
    delays = [retry_delay(attempts) for _ in range(50)]

    assert all(ceiling / 2 <= delay <= ceiling for delay in delays)
    assert len(set(delays)) > 1  # jittered: many workers do not retry at once


def test_a_retry_after_replaces_the_backoff_up_to_the_maximum():
    assert retry_delay(5, retry_after=7.0) == 7.0
    assert retry_delay(1, retry_after=3600.0) == 600.0
