"""The syncs in the master's push of the platform list, as a platform applies them."""

import json
import uuid

import pytest
from rest_framework.renderers import JSONRenderer

from platforms.models import Platform
from syncs.api.serializers import SyncSerializer
from syncs.models import Sync
from tests.factories import PlatformFactory, SyncFactory
from tests.webhooks.test_platform_push import post_push, wire_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def master(db):
    return PlatformFactory(domain="m.test", master=True)


@pytest.fixture
def other(db):
    return PlatformFactory(domain="c.test")


def listed(source: Platform, target: Platform, **fields) -> dict:
    """Return a sync as the master's syncs API lists it (JSON types)."""
    sync = Sync(
        uuid=uuid.uuid4(),
        source_platform=source,
        target_platform=target,
        **({"source_model": "auth.User", "target_model": "auth.User"} | fields),
    )
    sync.title = sync.title or sync.title_generate()
    return json.loads(JSONRenderer().render(SyncSerializer(sync).data))


def _push(client, master, current_platform, others, syncs=None, *, rows=None):
    """POST the master's push listing these platforms and, if given, syncs."""
    rows = rows or [wire_row(p) for p in (master, current_platform, *others)]
    body = {"source": master.domain, "platforms": rows}
    if syncs is not None:
        body["syncs"] = syncs
    return post_push(
        client,
        json.dumps(body).encode(),
        domain=master.domain,
        secrets=[master.signing_secret],
    )


def _syncs() -> list[tuple]:
    return list(Sync.objects.order_by("uuid").values_list("uuid", "status", "title"))


def test_push_refreshes_this_platforms_syncs_and_reports_them(
    client, master, current_platform, other
):
    kept = SyncFactory(source_platform=other, target_platform=current_platform)
    gone = SyncFactory(source_platform=current_platform, target_platform=master)
    new = listed(current_platform, other, if_exists="skip")
    paused = listed(other, current_platform, status=False) | {
        "uuid": str(kept.uuid),
        "title": kept.title,
    }
    not_here = listed(current_platform, other, source_model="shop.Item")

    response = _push(client, master, current_platform, [other], [new, paused, not_here])

    assert response.status_code == 200
    answer = response.json()["syncs"]
    assert (answer["created"], answer["updated"], answer["deleted"]) == (
        [new["title"]],
        [kept.title],
        [gone.title],
    )
    (skipped,) = answer["skipped"]
    assert skipped.startswith(f"{not_here['title']}: ")
    assert Sync.objects.get(uuid=new["uuid"]).if_exists == "skip"
    assert Sync.objects.get(uuid=kept.uuid).status is False
    assert not Sync.objects.filter(pk=gone.pk).exists()


def test_push_creates_the_platform_rows_before_the_syncs_that_name_them(
    client, master, current_platform
):
    newcomer = wire_row(domain="n.test")
    sync = listed(current_platform, Platform(**newcomer))
    rows = [wire_row(master), wire_row(current_platform), newcomer]

    response = _push(client, master, current_platform, [], [sync], rows=rows)

    assert response.json()["syncs"]["created"] == [sync["title"]]
    assert Sync.objects.get(uuid=sync["uuid"]).target_platform.domain == "n.test"


def test_push_without_syncs_leaves_the_syncs_alone(
    client, master, current_platform, other
):
    SyncFactory(source_platform=current_platform, target_platform=other)
    before = _syncs()

    response = _push(client, master, current_platform, [other])

    assert response.status_code == 200
    assert "syncs" not in response.json()
    assert _syncs() == before


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        ({"if_exists": "maybe"}, "syncs[0].if_exists:"),
        ({"status": None}, "syncs[0].status:"),
        ({"uuid": "nope"}, "syncs[0].uuid:"),
        ({"source_platform_ref": {"domain": "a.test"}}, "syncs[0].source_platform_ref"),
        ({"sync_ids": {"not": "a list"}}, "syncs[0].sync_ids:"),
    ],
)
def test_malformed_sync_is_400_and_writes_nothing(
    client, master, current_platform, other, change, detail
):
    SyncFactory(source_platform=current_platform, target_platform=other)
    rows = [wire_row(p) for p in (master, current_platform, other)]
    rows.append(wire_row(domain="n.test"))
    before = _syncs()

    response = _push(
        client,
        master,
        current_platform,
        [],
        [listed(current_platform, other) | change],
        rows=rows,
    )

    assert response.status_code == 400
    assert response.json()["detail"].startswith(detail)
    assert _syncs() == before
    assert not Platform.objects.filter(domain="n.test").exists()


@pytest.mark.parametrize(
    "syncs", [{"not": "a list"}, ["not an object"]], ids=["object", "string"]
)
def test_syncs_that_are_no_list_of_objects_are_400(
    client, master, current_platform, syncs
):
    response = _push(client, master, current_platform, [], syncs)

    assert response.status_code == 400
    assert response.json()["detail"].startswith("syncs")


def test_two_syncs_with_one_uuid_are_400(client, master, current_platform, other):
    sync = listed(current_platform, other)

    response = _push(client, master, current_platform, [other], [sync, sync])

    assert response.status_code == 400
    assert "Two syncs share uuid" in response.json()["detail"]
    assert not Sync.objects.exists()
