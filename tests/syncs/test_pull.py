"""SyncApiJob: a platform pulls its syncs from the master's API (a real HTTP peer)."""

import itertools
import json
import uuid

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from platforms.models import Platform
from syncs import tasks
from syncs.api.serializers import SyncSerializer
from syncs.models import Sync
from syncs.pull import PullError, syncs_pull
from syncs.registry import routes_for
from tests.factories import PlatformFactory, SyncFactory
from tests.syncs.master_peer import MasterPeer
from tests.syncs.webhook_peer import closed_domain

pytestmark = pytest.mark.django_db

_master_ids = itertools.count(900)


@pytest.fixture
def peer():
    with MasterPeer() as peer:
        yield peer


@pytest.fixture
def master(peer):
    return PlatformFactory(name="M", domain=peer.domain, master=True)


@pytest.fixture
def other(db):
    return PlatformFactory(name="C", domain="c.test")


@pytest.fixture
def api(peer, master, current_platform, other):
    """The master's API, which knows the three platforms under its own ids."""
    peer.api.tokens = {current_platform.api_token}
    peer.api.platforms = [_as_listed(p) for p in (master, current_platform, other)]
    return peer.api


def _master_id(platform: Platform) -> int:
    """Return the id a platform has on the master, which differs from ours."""
    return platform.pk + 1000


def _as_listed(platform: Platform) -> dict:
    return {
        "id": _master_id(platform),
        "uuid": str(platform.uuid),
        "name": platform.name,
        "domain": platform.domain,
    }


def _on_master(platform: Platform) -> Platform:
    return Platform(
        pk=_master_id(platform),
        uuid=platform.uuid,
        name=platform.name,
        domain=platform.domain,
    )


def master_sync(source: Platform, target: Platform, **fields) -> dict:
    """Return a sync as the master's API shows it (its own ids, our uuids)."""
    now = timezone.now()
    models = {"source_model": "auth.User", "target_model": "auth.User"}
    sync = Sync(
        pk=next(_master_ids),
        uuid=uuid.uuid4(),
        source_platform=_on_master(source),
        target_platform=_on_master(target),
        created_at=now,
        updated_at=now,
        **(models | fields),
    )
    sync.title = sync.title or sync.title_generate()
    return json.loads(JSONRenderer().render(SyncSerializer(sync).data))


def _local(item: dict) -> Sync:
    return Sync.objects.get(uuid=item["uuid"])


def test_pull_creates_the_masters_syncs_of_this_platform_with_local_platforms(
    api, current_platform, other
):
    outgoing = master_sync(
        current_platform,
        other,
        if_exists="skip",
        sync_ids=[1, 2],
        field_mappings={"email": "email"},
        interval=15,
    )
    incoming = master_sync(other, current_platform, target_model="auth.Group")
    api.syncs = [outgoing, incoming]

    report = syncs_pull()

    assert sorted(report.created) == sorted([outgoing["title"], incoming["title"]])
    sync = _local(outgoing)
    assert (sync.source_platform, sync.target_platform) == (current_platform, other)
    assert (sync.if_exists, sync.sync_ids, sync.interval) == ("skip", [1, 2], 15)
    assert sync.field_mappings == {"email": "email"}
    assert _local(incoming).target_model == "auth.Group"
    assert _local(incoming).target_platform == current_platform


def test_pull_asks_for_both_roles_with_its_own_token_and_its_id_on_the_master(
    api, current_platform
):
    syncs_pull()

    lookup, syncs = api.requests
    assert lookup.path == "/api/platforms/"
    assert lookup.query == {"uuid": str(current_platform.uuid)}
    assert syncs.path == f"/api/platforms/{_master_id(current_platform)}/syncs/"
    assert syncs.query == {"role": "any", "page": "1"}
    expected = f"Bearer {current_platform.api_token}"
    assert {r.headers["authorization"] for r in api.requests} == {expected}


def test_pull_finds_its_row_by_domain_when_the_master_has_another_uuid(
    api, current_platform, other
):
    api.platforms[1]["uuid"] = str(uuid.uuid4())
    api.syncs = [master_sync(current_platform, other)]

    report = syncs_pull()

    assert len(report.created) == 1
    assert api.requests[1].query == {"domain": current_platform.domain}


def test_pull_reads_every_page(api, current_platform, other):
    api.page_size = 2
    api.syncs = [
        master_sync(current_platform, other, target_model=f"app.Model{n}")
        for n in range(5)
    ]

    report = syncs_pull()

    assert len(report.created) == 5
    assert [r.query.get("page") for r in api.requests[1:]] == ["1", "2", "3"]


def test_pull_changes_a_changed_sync_and_keeps_its_local_run_state(
    api, current_platform, other
):
    item = master_sync(current_platform, other)
    api.syncs = [item]
    syncs_pull()
    Sync.objects.filter(uuid=item["uuid"]).update(has_errors=True, error_message="boom")
    item |= {"status": False, "title": "Paused", "has_errors": False}

    report = syncs_pull()

    assert report.updated == ["Paused"]
    sync = _local(item)
    assert (sync.status, sync.title) == (False, "Paused")
    assert (sync.has_errors, sync.error_message) == (True, "boom")


def test_pull_without_changes_writes_nothing(api, current_platform, other):
    api.syncs = [master_sync(current_platform, other)]
    syncs_pull()
    before = Sync.objects.get().updated_at

    report = syncs_pull()

    assert (report.created, report.updated, report.deleted) == ([], [], [])
    assert Sync.objects.get().updated_at == before


def test_pull_deletes_this_platforms_syncs_the_master_no_longer_has(
    api, current_platform, other, master
):
    gone_out = SyncFactory(source_platform=current_platform, target_platform=other)
    gone_in = SyncFactory(source_platform=other, target_platform=current_platform)
    not_ours = SyncFactory(source_platform=other, target_platform=master)
    kept = master_sync(current_platform, other, target_model="auth.Group")
    api.syncs = [kept]

    report = syncs_pull()

    assert sorted(report.deleted) == sorted([str(gone_out), str(gone_in)])
    assert set(Sync.objects.values_list("uuid", flat=True)) == {
        not_ours.uuid,
        uuid.UUID(kept["uuid"]),
    }


def test_sync_naming_a_platform_not_known_here_is_skipped_and_the_rest_applied(
    api, current_platform, other
):
    stranger = Platform(pk=77, uuid=uuid.uuid4(), name="X", domain="x.test")
    unknown = master_sync(current_platform, stranger)
    unknown["target_platform_ref"] |= {"id": 9999}
    fine = master_sync(current_platform, other)
    api.syncs = [unknown, fine]

    report = syncs_pull()

    assert report.created == [fine["title"]]
    (skipped,) = report.skipped
    assert "x.test is not known here yet" in skipped
    assert not Sync.objects.filter(uuid=unknown["uuid"]).exists()


def test_sync_with_a_model_not_installed_here_is_skipped_and_its_copy_kept(
    api, current_platform, other
):
    item = master_sync(current_platform, other)
    api.syncs = [item]
    syncs_pull()
    item |= {"source_model": "nowhere.Model", "title": "Broken"}

    report = syncs_pull()

    assert report.skipped == [
        "Broken: nowhere.Model is not a model installed on this platform."
    ]
    assert _local(item).source_model == "auth.User"
    assert report.deleted == []


def test_malformed_sync_is_skipped_naming_what_is_missing(api, current_platform, other):
    item = master_sync(current_platform, other)
    del item["if_exists"]
    api.syncs = [item]

    report = syncs_pull()

    assert report.skipped == [f"{item['title']}: the master sent no 'if_exists'"]
    assert not Sync.objects.exists()


def test_listener_follows_pulled_syncs_without_a_restart(api, current_platform, other):
    assert routes_for("auth.user") == ()  # loaded, and cached
    item = master_sync(current_platform, other)
    api.syncs = [item]

    syncs_pull()
    assert [r.sync_id for r in routes_for("auth.user")] == [_local(item).pk]

    api.syncs = []
    syncs_pull()
    assert routes_for("auth.user") == ()


def test_master_pulls_nothing(current_platform):
    Platform.objects.filter(pk=current_platform.pk).update(master=True)

    report = syncs_pull()

    assert report.is_master and report.master == current_platform.domain


def test_pull_without_a_known_master_is_an_error(current_platform):
    with pytest.raises(PullError, match="No master is known here yet"):
        syncs_pull()


def test_pull_without_a_row_of_its_own_is_an_error(db):
    with pytest.raises(PullError, match=r"run manage\.py mooxsync_install"):
        syncs_pull()


def test_unreachable_master_is_an_error_naming_the_url(current_platform):
    domain = closed_domain()
    PlatformFactory(domain=domain, master=True)

    with pytest.raises(PullError, match=f"http://{domain}/api/platforms/"):
        syncs_pull()


def test_master_refusing_the_token_is_an_error_and_nothing_changes(
    api, current_platform, other
):
    local = SyncFactory(source_platform=current_platform, target_platform=other)
    api.tokens = {"someone-else"}

    with pytest.raises(PullError, match="answered 401"):
        syncs_pull()
    assert Sync.objects.get() == local


def test_master_without_a_row_for_this_platform_is_an_error(api, current_platform):
    api.platforms = api.platforms[:1]

    with pytest.raises(PullError, match="add this platform there"):
        syncs_pull()


# --- the command and the task -------------------------------------------------


def test_command_prints_what_changed(api, current_platform, other, capsys):
    item = master_sync(current_platform, other)
    api.syncs = [item]

    call_command("sync_api")

    out = capsys.readouterr().out
    assert f"Pulled the syncs from the master {api.platforms[0]['domain']}." in out
    assert f"created: {item['title']}" in out


def test_command_is_quiet_at_verbosity_0(api, current_platform, other, capsys):
    api.syncs = [master_sync(current_platform, other)]

    call_command("sync_api", verbosity=0)

    assert capsys.readouterr().out == ""
    assert Sync.objects.count() == 1


def test_command_without_a_master_fails_clearly(current_platform):
    with pytest.raises(CommandError, match="run sync_platforms on the master"):
        call_command("sync_api")


def test_command_on_the_master_says_there_is_nothing_to_pull(current_platform, capsys):
    Platform.objects.filter(pk=current_platform.pk).update(master=True)

    call_command("sync_api")

    assert "is the master" in capsys.readouterr().out


def test_task_returns_the_counts(api, current_platform, other):
    api.syncs = [master_sync(current_platform, other)]

    assert tasks.syncs_pull() == {
        "created": 1,
        "updated": 0,
        "deleted": 0,
        "skipped": 0,
    }


def test_task_logs_instead_of_failing_without_a_master(current_platform, caplog):
    assert tasks.syncs_pull() == {}
    assert "No master is known here yet" in caplog.text
