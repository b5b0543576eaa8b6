import pytest

from syncs.models import Sync
from tests.factories import PlatformFactory, SyncFactory

pytestmark = pytest.mark.django_db

# Every field of the model, and the two platforms by uuid and domain.
SYNC_FIELDS = {field.name for field in Sync._meta.concrete_fields} | {
    "source_platform_ref",
    "target_platform_ref",
}


@pytest.fixture
def platforms():
    return PlatformFactory(domain="source.test"), PlatformFactory(domain="target.test")


def url(sync=None) -> str:
    return f"/api/syncs/{sync.pk}/" if sync else "/api/syncs/"


def sync_body(source, target, **changes) -> dict:
    body = {
        "source_platform": source.pk,
        "source_model": "auth.User",
        "target_platform": target.pk,
        "target_model": "auth.User",
    }
    return body | changes


# --- authentication and permissions ------------------------------------------


def test_list_without_credentials_is_401(api):
    response = api.get(url())
    assert response.status_code == 401
    assert response.json()["error"] == "not_authenticated"


def test_platform_token_reads_syncs(platform_api):
    sync = SyncFactory()
    response = platform_api.get(url())
    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [sync.pk]
    assert platform_api.get(url(sync)).status_code == 200


def test_platform_token_cannot_create_and_nothing_is_written(platform_api, platforms):
    response = platform_api.post(url(), sync_body(*platforms), format="json")
    assert response.status_code == 403
    assert not Sync.objects.exists()


def test_platform_token_cannot_change_or_delete(platform_api):
    sync = SyncFactory(interval=60)
    assert platform_api.patch(url(sync), {"interval": 5}).status_code == 403
    assert platform_api.delete(url(sync)).status_code == 403
    sync.refresh_from_db()
    assert sync.interval == 60


# --- create, read, update, delete ----------------------------------------------


def test_staff_create_a_sync_with_a_generated_title(admin_api, platforms):
    source, target = platforms
    body = sync_body(
        source,
        target,
        if_exists="skip",
        sync_ids=[1, "2"],
        field_mappings={"email": "mail"},
        use_platform_relations=True,
    )
    response = admin_api.post(url(), body, format="json")
    assert response.status_code == 201
    sync = Sync.objects.get()
    assert (sync.source_platform, sync.target_platform) == (source, target)
    assert (sync.if_exists, sync.sync_ids, sync.field_mappings) == (
        "skip",
        [1, "2"],
        {"email": "mail"},
    )
    assert sync.title == (
        "source.test (auth.User) to target.test (auth.User) by platform"
    )
    assert response.json()["title"] == sync.title


def test_sync_shows_every_field_and_its_platforms_by_uuid_and_domain(admin_api):
    sync = SyncFactory()
    body = admin_api.get(url(sync)).json()
    assert set(body) == SYNC_FIELDS
    assert body["source_platform"] == sync.source_platform_id
    assert body["source_platform_ref"] == {
        "id": sync.source_platform.pk,
        "uuid": str(sync.source_platform.uuid),
        "name": sync.source_platform.name,
        "domain": sync.source_platform.domain,
    }
    assert body["target_platform_ref"]["uuid"] == str(sync.target_platform.uuid)


def test_staff_change_a_sync(admin_api):
    sync = SyncFactory(target_model="auth.User")
    response = admin_api.patch(
        url(sync), {"target_model": "auth.Group", "status": False}, format="json"
    )
    assert response.status_code == 200
    sync.refresh_from_db()
    assert (sync.target_model, sync.status) == ("auth.Group", False)


def test_staff_replace_a_sync(admin_api, platforms):
    sync = SyncFactory()
    body = sync_body(*platforms, interval=15)
    response = admin_api.put(url(sync), body, format="json")
    assert response.status_code == 200
    sync.refresh_from_db()
    assert (sync.source_platform, sync.interval) == (platforms[0], 15)


def test_staff_delete_a_sync(admin_api):
    sync = SyncFactory()
    assert admin_api.delete(url(sync)).status_code == 204
    assert not Sync.objects.exists()


def test_unknown_sync_is_404_json(admin_api):
    response = admin_api.get("/api/syncs/999999/")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


# --- validation ----------------------------------------------------------------


def test_same_platform_and_model_on_both_sides_is_400(admin_api):
    platform = PlatformFactory()
    response = admin_api.post(url(), sync_body(platform, platform), format="json")
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "non_field_errors": ["Source and target are the same platform and model."]
    }
    assert not Sync.objects.exists()


def test_changing_a_sync_into_a_loop_is_400(admin_api):
    sync = SyncFactory()
    response = admin_api.patch(
        url(sync), {"target_platform": sync.source_platform_id}, format="json"
    )
    assert response.status_code == 400
    sync.refresh_from_db()
    assert sync.target_platform_id != sync.source_platform_id


def test_same_platform_with_another_model_is_allowed(admin_api):
    platform = PlatformFactory()
    body = sync_body(platform, platform, target_model="auth.Group")
    assert admin_api.post(url(), body, format="json").status_code == 201


@pytest.mark.parametrize("label", ["User", "auth.User.x", "auth user", ""])
def test_malformed_model_label_is_400_naming_the_field(admin_api, platforms, label):
    response = admin_api.post(
        url(), sync_body(*platforms, source_model=label), format="json"
    )
    assert response.status_code == 400
    assert "source_model" in response.json()["fields"]
    assert not Sync.objects.exists()


def test_unknown_model_of_the_current_platform_is_400(admin_api, current_platform):
    body = sync_body(current_platform, PlatformFactory(), source_model="auth.Nope")
    response = admin_api.post(url(), body, format="json")
    assert response.status_code == 400
    assert response.json()["fields"] == {
        "source_model": ["auth.Nope is not a model installed on this platform."]
    }


def test_unknown_model_of_another_platform_is_accepted(admin_api, current_platform):
    # Only the platform itself knows its models.
    body = sync_body(current_platform, PlatformFactory(), target_model="shop.Order")
    assert admin_api.post(url(), body, format="json").status_code == 201


@pytest.mark.parametrize("sync_ids", ["1,2", {"a": 1}, [True], [[1]], [1.5], None, 7])
def test_sync_ids_that_are_not_a_list_of_ids_are_400(admin_api, platforms, sync_ids):
    body = sync_body(*platforms, sync_ids=sync_ids)
    response = admin_api.post(url(), body, format="json")
    assert response.status_code == 400
    assert "sync_ids" in response.json()["fields"]
    assert not Sync.objects.exists()


@pytest.mark.parametrize(
    "mappings", [["a", "b"], {"a": 1}, {"": "b"}, {"a": ""}, "a->b", None]
)
def test_field_mappings_that_are_not_name_pairs_are_400(admin_api, platforms, mappings):
    body = sync_body(*platforms, field_mappings=mappings)
    response = admin_api.post(url(), body, format="json")
    assert response.status_code == 400
    assert "field_mappings" in response.json()["fields"]


def test_unknown_if_exists_policy_is_400(admin_api, platforms):
    body = sync_body(*platforms, if_exists="merge")
    response = admin_api.post(url(), body, format="json")
    assert response.status_code == 400
    assert "if_exists" in response.json()["fields"]


@pytest.mark.parametrize("value", [999999, "abc", None])
def test_unknown_source_platform_is_400(admin_api, platforms, value):
    body = sync_body(*platforms, source_platform=value)
    response = admin_api.post(url(), body, format="json")
    assert response.status_code == 400
    assert "source_platform" in response.json()["fields"]


def test_missing_fields_are_400_naming_each(admin_api):
    response = admin_api.post(url(), {}, format="json")
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {
        "source_platform",
        "source_model",
        "target_platform",
        "target_model",
    }


# --- filters ---------------------------------------------------------------------


def test_list_filters_by_source_target_and_status(admin_api, platforms):
    source, target = platforms
    wanted = SyncFactory(source_platform=source, target_platform=target, status=False)
    SyncFactory(source_platform=source, status=False)
    SyncFactory(target_platform=target, status=False)
    SyncFactory(source_platform=source, target_platform=target, target_model="a.B")

    query = {"source_platform": source.pk, "target_platform": target.pk, "status": 0}
    response = admin_api.get(url(), query)
    assert [row["id"] for row in response.json()["results"]] == [wanted.pk]


def test_list_without_filters_shows_every_sync(admin_api):
    SyncFactory.create_batch(3)
    assert admin_api.get(url()).json()["count"] == 3


@pytest.mark.parametrize(
    "query", [{"source_platform": "abc"}, {"target_platform": "0"}, {"status": "x"}]
)
def test_malformed_filter_is_400(admin_api, query):
    response = admin_api.get(url(), query)
    assert response.status_code == 400
    assert set(response.json()["fields"]) == set(query)


# --- syncs of a platform ----------------------------------------------------------


def test_syncs_for_platform_lists_only_its_source_syncs(platform_api, platforms):
    source, target = platforms
    own = SyncFactory(source_platform=source, target_platform=target)
    inactive = SyncFactory(source_platform=source, status=False)
    SyncFactory(source_platform=target, target_platform=source)
    SyncFactory()

    response = platform_api.get(f"/api/platforms/{source.pk}/syncs/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert {row["id"] for row in body["results"]} == {own.pk, inactive.pk}
    listed = next(row for row in body["results"] if row["id"] == own.pk)
    assert listed["source_platform_ref"]["uuid"] == str(source.uuid)
    assert listed["target_platform_ref"]["domain"] == "target.test"


def test_syncs_for_platform_is_paginated(platform_api, platforms):
    SyncFactory.create_batch(3, source_platform=platforms[0])
    response = platform_api.get(f"/api/platforms/{platforms[0].pk}/syncs/")
    assert {"count", "next", "previous", "results"} == set(response.json())


@pytest.mark.parametrize("pk", ["999999", "99999999999999999999999", "abc"])
def test_syncs_for_unknown_platform_is_404_json(platform_api, pk):
    response = platform_api.get(f"/api/platforms/{pk}/syncs/")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_syncs_for_platform_needs_credentials(api):
    assert api.get(f"/api/platforms/{PlatformFactory().pk}/syncs/").status_code == 401


# --- models offered for syncing ----------------------------------------------------


def models_by_label(client) -> dict:
    response = client.get("/api/models/")
    assert response.status_code == 200
    return {model["label"]: model for model in response.json()}


def test_models_lists_user_matched_by_natural_key(platform_api):
    user = models_by_label(platform_api)["auth.User"]
    assert user["natural_key"] is True
    assert user["identifier"] == "natural_key"
    fields = {field["name"]: field for field in user["fields"]}
    assert fields["username"] == {
        "name": "username",
        "type": "CharField",
        "unique": True,
        "null": False,
        "related_model": None,
    }
    assert fields["groups"]["type"] == "ManyToManyField"
    assert fields["groups"]["related_model"] == "auth.Group"


def test_models_offers_platforms_matched_by_uuid(platform_api):
    platform = models_by_label(platform_api)["platforms.Platform"]
    assert platform["natural_key"] is False
    assert platform["identifier"] == "uuid"


def test_models_leaves_out_bookkeeping_and_excluded_models(platform_api):
    labels = set(models_by_label(platform_api))
    assert "auth.User" in labels
    assert not labels & {"sessions.Session", "syncs.Sync", "platforms.PlatformRelation"}
    assert not {label for label in labels if label.startswith("webhooks.")}


def test_model_without_natural_key_or_unique_identifier_has_none(
    platform_api, settings
):
    settings.SYNC_MODELS_EXCLUDED = []
    log_entry = models_by_label(platform_api)["admin.LogEntry"]
    assert (log_entry["natural_key"], log_entry["identifier"]) == (False, None)


def test_models_needs_credentials(api):
    assert api.get("/api/models/").status_code == 401


def test_models_is_read_only(admin_api):
    response = admin_api.post("/api/models/", {}, format="json")
    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"
