"""SyncPlatformJob: the master pushes the platform list to every platform."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from platforms import tasks
from platforms.keys import platform_key_issue
from platforms.models import Platform, PlatformKey
from platforms.push import PUSH_FIELDS
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
    """The master of a new cluster: signing keys, no shared secret."""
    Platform.objects.filter(pk=current_platform.pk).update(
        master=True, signing_secret=""
    )
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


def _verifies(request, secret: str = "", public_key: str = "") -> bool:
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


def test_every_other_platform_gets_the_complete_signed_list(master, peers, targets):
    outcomes = platforms_push_all()

    assert [o.domain for o in outcomes] == [t.domain for t in targets]
    assert all(o.ok for o in outcomes)
    for peer in peers:
        (request,) = peer.requests
        assert request.path == "/sync-webhook"
        assert request.headers[PLATFORM_HEADER.lower()] == master.domain
        assert _verifies(request, public_key=_public_key(master))
        pushed = request.json()
        assert pushed["source"] == master.domain
        assert {row["domain"] for row in pushed["platforms"]} == {
            master.domain,
            *[t.domain for t in targets],
        }
        assert all(set(row) == {*PUSH_FIELDS, "keys"} for row in pushed["platforms"])


def _public_key(platform) -> str:
    return platform.keys.get().public_key


def test_every_platform_gets_a_key_and_only_its_own_private_key(master, peers, targets):
    platforms_push_all()

    for peer, target in zip(peers, targets, strict=True):
        rows = {row["domain"]: row for row in peer.requests[0].json()["platforms"]}
        assert [k["public_key"] for k in rows[target.domain]["keys"]] == [
            _public_key(target)
        ]
        private = [
            (domain, key["private_key"])
            for domain, row in rows.items()
            for key in row["keys"]
            if "private_key" in key
        ]
        assert [domain for domain, _ in private] == [target.domain]
        assert private[0][1].startswith("whsk_")
        assert rows[master.domain]["keys"][0]["public_key"] == _public_key(master)


def test_the_master_forgets_a_private_key_its_platform_says_it_holds(
    master, peers, targets
):
    taken, old_version = (platform_key_issue(platform=t) for t in targets)
    held = REPORT | {"held_keys": [taken.public_key]}
    peers[0].answer(Answer(status=200, body=json.dumps(held).encode()))
    peers[1].answer(Answer(status=200, body=json.dumps(REPORT).encode()))

    platforms_push_all()

    taken.refresh_from_db()
    old_version.refresh_from_db()
    assert taken.private_key == ""  # only its platform has it now
    # A receiver of the shared-secret scheme ignored it: kept for the next push.
    assert old_version.private_key.startswith("whsk_")
    assert master.keys.get().private_key.startswith("whsk_")  # its own


def test_a_rotated_key_reaches_every_platform_in_one_push(master, peers, targets):
    first, rotated = targets
    for target in targets:
        platform_key_issue(platform=target)
    PlatformKey.objects.filter(platform__in=targets).update(private_key="")  # held
    new = platform_key_issue(platform=rotated, overlap_seconds=60)
    held = REPORT | {"held_keys": [new.public_key]}
    peers[1].answer(Answer(status=200, body=json.dumps(held).encode()))

    outcomes = platforms_push_all()

    # The platform taking its new key goes first; the list to the other
    # already names the new key, since its platform now holds it.
    assert [o.domain for o in outcomes] == [rotated.domain, first.domain]
    rows = {r["domain"]: r for r in peers[0].requests[0].json()["platforms"]}
    assert new.public_key in [k["public_key"] for k in rows[rotated.domain]["keys"]]


def test_a_failed_push_keeps_the_private_key_for_the_next(master, peers, targets):
    peers[0].answer(Answer(status=503))

    platforms_push_all()

    assert targets[0].keys.get().private_key.startswith("whsk_")


def test_retired_keys_are_dropped_and_the_next_push_lists_the_new_one(
    master, peers, targets
):
    old = platform_key_issue(platform=targets[0])
    PlatformKey.objects.filter(platform__in=targets).update(private_key="")  # held
    new = platform_key_issue(platform=targets[0], overlap_seconds=0)
    held = REPORT | {"held_keys": [new.public_key]}
    peers[0].answer(Answer(status=200, body=json.dumps(held).encode()))

    platforms_push_all()

    listed = {
        row["domain"]: [key["public_key"] for key in row["keys"]]
        for row in peers[1].requests[-1].json()["platforms"]
    }
    assert listed[targets[0].domain] == [new.public_key]
    assert not targets[0].keys.filter(pk=old.pk).exists()


def test_with_a_cluster_token_the_push_is_also_signed_for_first_contact(
    master, peers, targets, settings
):
    settings.SYNC_TOKEN = TOKEN

    platforms_push_all()

    request = peers[0].requests[0]
    assert len(request.headers["webhook-signature"].split()) == 2
    assert _verifies(request, public_key=_public_key(master))
    assert _verifies(request, secret_from_token(TOKEN))


def test_without_a_cluster_token_only_the_masters_key_signs(master, peers, targets):
    platforms_push_all()

    request = peers[0].requests[0]
    assert request.headers["webhook-signature"].startswith("v1a,")
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
