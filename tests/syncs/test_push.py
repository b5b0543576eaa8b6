"""The master pushes each platform its syncs, soon after a sync changed."""

import json

import pytest
from django.db import transaction

from platforms.push import push_body
from platforms.services import platforms_push_all
from syncs import tasks
from syncs.push import PUSH_DELAY, syncs_push_part, syncs_push_run
from tests.factories import PlatformFactory, SyncFactory
from tests.syncs.webhook_peer import Answer, WebhookPeer

pytestmark = pytest.mark.django_db


@pytest.fixture
def published(monkeypatch) -> list[dict]:
    """The push tasks published to the broker, by their options."""
    calls: list[dict] = []
    monkeypatch.setattr(tasks.syncs_push, "apply_async", lambda **o: calls.append(o))
    return calls


@pytest.fixture
def peer():
    with WebhookPeer() as running:
        yield running


# --- the syncs part of the push ----------------------------------------------------


def test_push_body_lists_the_targets_syncs_as_the_api_lists_them(
    master, target, platform_api
):
    outgoing = SyncFactory(source_platform=target, target_platform=master)
    incoming = SyncFactory(source_platform=master, target_platform=target)
    SyncFactory(source_platform=master, target_platform=PlatformFactory())

    body = json.loads(push_body(source=master, target=target))

    listed = platform_api.get(f"/api/platforms/{target.pk}/syncs/?role=any").json()
    assert body["syncs"] == listed["results"]
    assert {s["uuid"] for s in body["syncs"]} == {
        str(outgoing.uuid),
        str(incoming.uuid),
    }


def test_push_body_of_a_platform_without_syncs_lists_none(master, target):
    assert syncs_push_part(target) == []


# --- the trigger on the master -----------------------------------------------------


def test_sync_created_on_the_master_asks_for_a_push_once_committed(
    master, target, published, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        SyncFactory(source_platform=master, target_platform=target)
        assert published == []

    assert published == [{"countdown": PUSH_DELAY}]


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda sync: sync.delete(), id="deleted"),
        pytest.param(lambda sync: setattr(sync, "status", False), id="paused"),
        pytest.param(lambda sync: setattr(sync, "if_exists", "skip"), id="changed"),
    ],
)
def test_sync_changed_on_the_master_asks_for_a_push(
    master, target, published, django_capture_on_commit_callbacks, change
):
    sync = SyncFactory(source_platform=master, target_platform=target)

    with django_capture_on_commit_callbacks(execute=True):
        change(sync)
        if sync.pk:
            sync.save()

    assert published == [{"countdown": PUSH_DELAY}]


def test_a_burst_of_sync_changes_asks_for_one_push(
    master, target, published, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        syncs = SyncFactory.create_batch(
            5, source_platform=master, target_platform=target
        )
    for sync in syncs:  # separate commits, while the push is still pending
        with django_capture_on_commit_callbacks(execute=True):
            sync.delete()

    assert len(published) == 1


def test_rolled_back_sync_change_asks_for_no_push(
    master, target, published, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        SyncFactory(source_platform=master, target_platform=target)
        raise RuntimeError("rolled back")

    assert published == []


def test_sync_saved_on_a_platform_that_is_not_the_master_asks_for_no_push(
    current_platform, target, published, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        sync = SyncFactory(source_platform=target, target_platform=current_platform)
        sync.delete()

    assert published == []


# --- the push task -----------------------------------------------------------------


def test_push_run_sends_the_syncs_and_takes_the_next_request(
    master, peer, published, django_capture_on_commit_callbacks
):
    target = PlatformFactory(domain=peer.domain)
    with django_capture_on_commit_callbacks(execute=True):
        sync = SyncFactory(source_platform=master, target_platform=target)

    outcomes = syncs_push_run()

    assert [(o.domain, o.ok) for o in outcomes] == [(peer.domain, True)]
    (request,) = peer.requests
    assert [s["uuid"] for s in request.json()["syncs"]] == [str(sync.uuid)]
    with django_capture_on_commit_callbacks(execute=True):
        sync.delete()
    assert len(published) == 2  # the run cleared the request


def test_push_run_elsewhere_than_on_the_master_pushes_nothing(current_platform, peer):
    PlatformFactory(domain=peer.domain)

    assert syncs_push_run() == []
    assert peer.requests == []


def test_masters_outcome_reports_what_the_syncs_part_changed(master, peer):
    PlatformFactory(domain=peer.domain)
    answer = {
        "created": [],
        "updated": [],
        "deleted": [],
        "kept": [],
        "held_keys": [],
        "syncs": {
            "created": ["a to b"],
            "updated": [],
            "deleted": ["old"],
            "skipped": ["x: shop.Item is not a model installed on this platform."],
        },
    }
    peer.answer(Answer(status=200, body=json.dumps(answer).encode()))

    (outcome,) = platforms_push_all()

    assert outcome.detail == (
        "0 created, 0 updated, 0 deleted; syncs: 1 created, 0 updated, 1 deleted; "
        "skipped x: shop.Item is not a model installed on this platform."
    )
