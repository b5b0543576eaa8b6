"""The syncs-for-platform list by role: what SyncApiJob reads from the master."""

import pytest

from tests.factories import PlatformFactory, SyncFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cluster():
    """Platform P with a sync out, a sync in, and a sync that is not its own."""
    p, q, r = (PlatformFactory(domain=f"{n}.test") for n in "pqr")
    out = SyncFactory(source_platform=p, target_platform=q)
    into = SyncFactory(source_platform=q, target_platform=p)
    SyncFactory(source_platform=q, target_platform=r)
    return p, out, into


def _uuids(response) -> set[str]:
    assert response.status_code == 200
    return {sync["uuid"] for sync in response.json()["results"]}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", {"out"}),
        ("?role=source", {"out"}),
        ("?role=target", {"into"}),
        ("?role=any", {"out", "into"}),
    ],
)
def test_role_picks_the_side_of_the_platform(platform_api, cluster, query, expected):
    p, out, into = cluster
    syncs = {"out": str(out.uuid), "into": str(into.uuid)}

    response = platform_api.get(f"/api/platforms/{p.pk}/syncs/{query}")

    assert _uuids(response) == {syncs[name] for name in expected}


def test_unknown_role_is_400_naming_the_parameter(platform_api, cluster):
    response = platform_api.get(f"/api/platforms/{cluster[0].pk}/syncs/?role=both")

    assert response.status_code == 400
    assert response.json()["detail"].startswith("role:")


def test_each_sync_names_its_platforms_by_uuid_and_domain(platform_api, cluster):
    p, _out, into = cluster

    (sync,) = platform_api.get(f"/api/platforms/{p.pk}/syncs/?role=target").json()[
        "results"
    ]

    assert sync["target_platform_ref"] == {
        "id": p.pk,
        "uuid": str(p.uuid),
        "name": p.name,
        "domain": "p.test",
    }
    assert sync["source_platform_ref"]["uuid"] == str(into.source_platform.uuid)
