import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from syncs.models import Sync
from tests.factories import PlatformFactory, SyncFactory

pytestmark = pytest.mark.django_db

ADD_URL = reverse("admin:syncs_sync_add")
CHANGELIST_URL = reverse("admin:syncs_sync_changelist")


def change_url(sync: Sync) -> str:
    return reverse("admin:syncs_sync_change", args=[sync.pk])


def sync_form(source, target, **values) -> dict:
    """Return the POST data of the sync form, booleans as checkboxes."""
    data = {
        "status": True,
        "title": "",
        "source_platform": source.pk,
        "source_model": "auth.User",
        "target_platform": target.pk,
        "target_model": "auth.User",
        "if_exists": "update",
        "sync_ids": "[]",
        "sync_all_fields": True,
        "field_mappings": "{}",
        "error_message": "",
        "interval": "60",
        "last_sync_0": "",
        "last_sync_1": "",
        **values,
    }
    return {
        key: "on" if value is True else value
        for key, value in data.items()
        if value is not False
    }


def listed(response) -> list[str]:
    return [sync.title for sync in response.context["cl"].result_list]


def test_changelist_shows_source_and_target_with_their_models(admin_client):
    source = PlatformFactory(name="A")
    target = PlatformFactory(name="B")
    SyncFactory(
        source_platform=source,
        target_platform=target,
        target_model="auth.Group",
        has_errors=True,
        error_message="Target refused the record",
    )
    response = admin_client.get(CHANGELIST_URL)
    html = response.content.decode()
    assert response.status_code == 200
    assert "A (auth.User)" in html
    assert "B (auth.Group)" in html
    assert "Target refused the record" in html


def test_changelist_truncates_long_error_messages(admin_client):
    SyncFactory(has_errors=True, error_message="x" * 500)
    html = admin_client.get(CHANGELIST_URL).content.decode()
    assert "x" * 59 + "…" in html
    assert "x" * 61 not in html


def test_changelist_filters_by_source_platform(admin_client):
    source = PlatformFactory()
    SyncFactory(source_platform=source, title="Wanted")
    SyncFactory(title="Other")
    response = admin_client.get(
        CHANGELIST_URL, {"source_platform__id__exact": source.pk}
    )
    assert listed(response) == ["Wanted"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"has_errors__exact": "1"}, ["Broken"]),
        ({"status__exact": "0"}, ["Paused"]),
        ({"if_exists__exact": "skip"}, ["Paused"]),
        ({"use_platform_relations__exact": "1"}, ["Broken"]),
    ],
)
def test_changelist_filters_by_state(admin_client, params, expected):
    SyncFactory(title="Broken", has_errors=True, use_platform_relations=True)
    SyncFactory(title="Paused", status=False, if_exists=Sync.IfExists.SKIP)
    assert listed(admin_client.get(CHANGELIST_URL, params)) == expected


@pytest.mark.parametrize("query", ["Wanted", "auth.Group", "refused"])
def test_changelist_searches_title_models_and_errors(admin_client, query):
    SyncFactory(title="Wanted", target_model="auth.Group", error_message="refused")
    SyncFactory(title="Other")
    assert listed(admin_client.get(CHANGELIST_URL, {"q": query})) == ["Wanted"]


def queries_of_changelist(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        client.get(CHANGELIST_URL)
    return len(queries)


def test_changelist_queries_do_not_grow_with_rows(admin_client):
    SyncFactory.create_batch(2)
    admin_client.get(CHANGELIST_URL)  # warm the session and content types
    few = queries_of_changelist(admin_client)
    SyncFactory.create_batch(5)
    assert queries_of_changelist(admin_client) == few


def test_add_and_change_forms_render(admin_client):
    sync = SyncFactory()
    add = admin_client.get(ADD_URL)
    change = admin_client.get(change_url(sync))
    assert add.status_code == change.status_code == 200
    assert "Leave blank to generate one" in add.content.decode()
    assert sync.title in change.content.decode()


def test_adding_a_sync_generates_its_title(admin_client, current_platform):
    target = PlatformFactory(domain="b.test")
    response = admin_client.post(
        ADD_URL, sync_form(current_platform, target, target_model="auth.Group")
    )
    assert response.status_code == 302
    sync = Sync.objects.get()
    assert sync.title == "a.test (auth.User) to b.test (auth.Group)"
    assert (sync.sync_ids, sync.field_mappings) == ([], {})


def test_adding_a_sync_keeps_json_options(admin_client):
    source, target = PlatformFactory(), PlatformFactory()
    admin_client.post(
        ADD_URL,
        sync_form(
            source,
            target,
            title="Users",
            sync_ids="[1, 2]",
            sync_all_fields=False,
            field_mappings='{"email": "mail"}',
        ),
    )
    sync = Sync.objects.get()
    assert sync.sync_ids == [1, 2]
    assert sync.field_mappings == {"email": "mail"}
    assert sync.sync_all_fields is False


def test_emptied_json_boxes_save_as_empty_values(admin_client):
    source, target = PlatformFactory(), PlatformFactory()
    response = admin_client.post(
        ADD_URL, sync_form(source, target, sync_ids="", field_mappings="")
    )
    assert response.status_code == 302
    sync = Sync.objects.get()
    assert (sync.sync_ids, sync.field_mappings) == ([], {})


def test_same_platform_and_model_on_both_sides_is_refused(admin_client):
    platform = PlatformFactory()
    response = admin_client.post(ADD_URL, sync_form(platform, platform))
    assert response.status_code == 200
    assert "Source and target are the same platform and model." in (
        response.content.decode()
    )
    assert not Sync.objects.exists()


def test_same_platform_with_another_model_is_accepted(admin_client):
    platform = PlatformFactory()
    response = admin_client.post(
        ADD_URL, sync_form(platform, platform, target_model="auth.Group")
    )
    assert response.status_code == 302
    assert Sync.objects.count() == 1


def test_malformed_model_label_is_refused(admin_client):
    source, target = PlatformFactory(), PlatformFactory()
    response = admin_client.post(
        ADD_URL, sync_form(source, target, source_model="not a label")
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["source_model"] == [
        "Enter a model label of the form app_label.ModelName."
    ]
    assert not Sync.objects.exists()


def test_unknown_model_on_this_platform_is_refused(admin_client, current_platform):
    response = admin_client.post(
        ADD_URL,
        sync_form(current_platform, PlatformFactory(), source_model="auth.Nothing"),
    )
    assert response.context["adminform"].form.errors["source_model"] == [
        "auth.Nothing is not a model installed on this platform."
    ]
    assert not Sync.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("sync_ids", '{"a": 1}', "Enter a JSON list of record ids, e.g. [1, 2, 3]."),
        ("sync_ids", "[true]", "Enter a JSON list of record ids, e.g. [1, 2, 3]."),
        ("sync_ids", "[1,", "Enter a valid JSON."),
        (
            "field_mappings",
            '["email"]',
            'Enter a JSON object of source field -> target field, e.g. {"a": "b"}.',
        ),
        (
            "field_mappings",
            '{"email": 3}',
            'Enter a JSON object of source field -> target field, e.g. {"a": "b"}.',
        ),
    ],
)
def test_invalid_json_shapes_are_refused(admin_client, field, value, message):
    source, target = PlatformFactory(), PlatformFactory()
    response = admin_client.post(ADD_URL, sync_form(source, target, **{field: value}))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors[field] == [message]
    assert not Sync.objects.exists()


def test_changing_a_sync_saves_every_field(admin_client):
    sync = SyncFactory(title="Old")
    other = PlatformFactory()
    response = admin_client.post(
        change_url(sync),
        sync_form(
            sync.source_platform,
            other,
            title="New",
            status=False,
            if_exists="error",
            use_transformer_class=True,
            has_errors=True,
            error_message="boom",
            interval="5",
            last_sync_0="2025-01-02",
            last_sync_1="03:04:05",
        ),
    )
    assert response.status_code == 302
    sync.refresh_from_db()
    assert (sync.title, sync.status, sync.target_platform) == ("New", False, other)
    assert (sync.if_exists, sync.use_transformer_class) == ("error", True)
    assert (sync.has_errors, sync.error_message, sync.interval) == (True, "boom", 5)
    assert sync.last_sync.isoformat() == "2025-01-02T03:04:05+00:00"
