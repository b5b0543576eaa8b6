"""SyncPlatformJob: the master pushes the platform list to every platform."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from platforms import tasks
from platforms.models import Platform
from platforms.roster import ROSTER_FIELDS
from platforms.services import PlatformPushError, platforms_push_all
from platforms.signing import secret_from_token, signature_verify
from platforms.transport import PLATFORM_HEADER
from tests.factories import PlatformFactory
from tests.syncs.webhook_peer import Answer, WebhookPeer, closed_domain

pytestmark = pytest.mark.django_db

TOKEN = "cluster-token-" + "y" * 40
REPORT = {"created": ["n.test"], "updated": ["a.test"], "deleted": [], "kept": []}


@pytest.fixture
def master(current_platform):
    Platform.objects.filter(pk=current_platform.pk).update(master=True)
    current_platform.refresh_from_db()
    return current_platform


@pytest.fixture
def peers():
    with WebhookPeer() as one, WebhookPeer() as two:
        yield one, two


@pytest.fixture
def targets(peers):
    return [
        PlatformFactory(name=f"T{n}", domain=peer.domain, order=n)
        for n, peer in enumerate(peers)
    ]


def _verifies(request, secret: str) -> bool:
    try:
        signature_verify(
            secrets=[secret],
            msg_id=request.headers["webhook-id"],
            timestamp=request.headers["webhook-timestamp"],
            signature_header=request.headers["webhook-signature"],
            body=request.body,
            tolerance=300,
        )
    except Exception:
        return False
    return True


def test_every_other_platform_gets_the_complete_signed_list(master, peers, targets):
    outcomes = platforms_push_all()

    assert [o.domain for o in outcomes] == [t.domain for t in targets]
    assert all(o.ok for o in outcomes)
    for peer in peers:
        (request,) = peer.requests
        assert request.path == "/sync-webhook"
        assert request.headers[PLATFORM_HEADER.lower()] == master.domain
        assert _verifies(request, master.signing_secret)
        pushed = request.json()
        assert pushed["source"] == master.domain
        assert {row["domain"] for row in pushed["platforms"]} == {
            master.domain,
            *[t.domain for t in targets],
        }
        assert all(set(row) == set(ROSTER_FIELDS) for row in pushed["platforms"])


def test_with_a_cluster_token_the_push_is_also_signed_for_first_contact(
    master, peers, targets, settings
):
    settings.SYNC_TOKEN = TOKEN

    platforms_push_all()

    request = peers[0].requests[0]
    assert len(request.headers["webhook-signature"].split()) == 2
    assert _verifies(request, master.signing_secret)
    assert _verifies(request, secret_from_token(TOKEN))


def test_without_a_cluster_token_only_the_masters_secret_signs(master, peers, targets):
    platforms_push_all()

    request = peers[0].requests[0]
    assert len(request.headers["webhook-signature"].split()) == 1


def test_outcome_reports_what_the_platform_made_of_the_list(master, peers, targets):
    peers[0].answer(Answer(status=200, body=json.dumps(REPORT).encode()))

    first, _second = platforms_push_all()

    assert first.ok
    assert first.detail == "1 created, 1 updated, 0 deleted"
    assert first.answer == REPORT


def test_outcome_names_rows_a_platform_kept(master, peers, targets):
    kept = REPORT | {"kept": ["old.test"]}
    peers[0].answer(Answer(status=200, body=json.dumps(kept).encode()))

    first, _second = platforms_push_all()

    assert first.detail.endswith("; kept old.test (still in use there)")


def test_unreachable_or_refusing_platform_fails_alone(master, peers, targets):
    gone = PlatformFactory(name="Gone", domain=closed_domain(), order=9)
    peers[0].answer(Answer(status=403, body=b'{"error": "not_master"}'))

    refused, fine, unreachable = platforms_push_all()

    assert not refused.ok and "answered 403" in refused.detail
    assert fine.ok
    assert not unreachable.ok
    assert unreachable.detail.startswith(f"http://{gone.domain}/sync-webhook:")


def test_only_the_master_pushes(current_platform):
    with pytest.raises(PlatformPushError, match="is not the master"):
        platforms_push_all()


def test_a_platform_without_its_row_cannot_push(db):
    with pytest.raises(PlatformPushError, match="has no Platform row"):
        platforms_push_all()


# --- the command and the task -------------------------------------------------


def test_command_prints_one_line_per_platform(master, peers, targets, capsys):
    peers[0].answer(Answer(status=200, body=json.dumps(REPORT).encode()))

    call_command("sync_platforms")

    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"{targets[0].domain}: ok: 1 created, 1 updated, 0 deleted",
        f"{targets[1].domain}: ok: 0 created, 0 updated, 0 deleted",
    ]


def test_command_is_quiet_at_verbosity_0(master, peers, targets, capsys):
    call_command("sync_platforms", verbosity=0)

    assert capsys.readouterr().out == ""
    assert all(peer.requests for peer in peers)


def test_command_fails_naming_the_platforms_that_did_not_take_the_list(
    master, peers, targets, capsys
):
    gone = PlatformFactory(name="Gone", domain=closed_domain(), order=9)

    with pytest.raises(CommandError, match=f"1 of 3 platform\\(s\\).*{gone.domain}"):
        call_command("sync_platforms")

    assert f"{gone.domain}: failed: http://{gone.domain}/" in capsys.readouterr().out


def test_command_on_another_platform_than_the_master_fails_clearly(current_platform):
    with pytest.raises(CommandError, match="only the master pushes"):
        call_command("sync_platforms")


def test_command_with_no_other_platform_says_so(master, capsys):
    call_command("sync_platforms")

    assert capsys.readouterr().out == "No other platform to push to.\n"


def test_task_returns_each_platforms_outcome(master, peers, targets):
    gone = PlatformFactory(name="Gone", domain=closed_domain(), order=9)

    result = tasks.platforms_push()

    assert result[targets[0].domain] == result[targets[1].domain] == "ok"
    assert result[gone.domain].startswith(f"http://{gone.domain}/")


def test_task_on_another_platform_than_the_master_does_nothing(
    current_platform, peers, targets
):
    assert tasks.platforms_push() == {}
    assert not any(peer.requests for peer in peers)
