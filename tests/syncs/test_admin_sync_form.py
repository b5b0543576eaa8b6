import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.urls import reverse

from syncs.admin.forms import FieldMappingsField
from syncs.models import Sync
from tests.factories import PlatformFactory, SyncFactory, UserFactory
from tests.syncs.test_admin import ADD_URL, change_url, sync_form
from tests.syncs.webhook_peer import closed_domain

pytestmark = pytest.mark.django_db

MODELS_URL = reverse("admin:syncs_sync_models")
COMPATIBILITY_URL = reverse("admin:syncs_sync_compatibility")


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_models_of_this_platform_are_offered(admin_client, current_platform):
    answer = admin_client.get(MODELS_URL, {"platform": current_platform.pk})
    assert answer.status_code == 200
    labels = [model["label"] for model in answer.json()["models"]]
    assert "auth.User" in labels
    assert "admin.LogEntry" not in labels


def test_an_unreachable_platform_gets_a_clear_message(admin_client, current_platform):
    far = PlatformFactory(name="Far", domain=closed_domain())
    answer = admin_client.get(MODELS_URL, {"platform": far.pk})
    assert answer.status_code == 502
    body = answer.json()
    assert body["error"] == "platform_unreachable"
    assert body["detail"].startswith(
        f"The platform Far could not be reached at http://{far.domain}"
    )
    assert body["detail"].endswith(
        "Type the model label (app_label.ModelName) by hand."
    )


@pytest.mark.parametrize(
    ("query", "status", "error"),
    [
        ({}, 400, "invalid"),
        ({"platform": "x"}, 400, "invalid"),
        ({"platform": "999"}, 404, "not_found"),
    ],
)
def test_a_bad_platform_query_is_refused(admin_client, query, status, error):
    answer = admin_client.get(MODELS_URL, query)
    assert (answer.status_code, answer.json()["error"]) == (status, error)


def test_model_choices_need_a_staff_user_who_may_edit_syncs(client, current_platform):
    query = {"platform": current_platform.pk}
    assert client.get(MODELS_URL, query).status_code == 302  # to the login page
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_sync"))
    client.force_login(viewer)
    assert client.get(MODELS_URL, query).status_code == 403


def test_the_form_suggests_this_platforms_models_and_allows_any_label(
    admin_client, current_platform
):
    sync = SyncFactory(source_platform=current_platform)
    html = admin_client.get(change_url(sync)).content.decode()
    assert 'list="id_source_model_choices"' in html
    assert '<option value="auth.Group">group</option>' in html
    # A remote platform's models are loaded by the script; the box stays free text.
    assert '<datalist id="id_target_model_choices"></datalist>' in html
    assert 'data-models-url="/admin/syncs/sync/models/"' in html
    assert "syncs/admin/sync_form.js" in html


def test_the_title_box_knows_the_platform_domains_for_its_preview(
    admin_client, current_platform
):
    html = admin_client.get(ADD_URL).content.decode()
    assert f"&quot;{current_platform.pk}&quot;: &quot;a.test&quot;" in html


def test_mappings_are_typed_as_lines_and_shown_as_lines(admin_client, current_platform):
    target = PlatformFactory()
    lines = "username = name\n\n# a comment\nemail->contact\n"
    response = admin_client.post(
        ADD_URL, sync_form(current_platform, target, field_mappings=lines)
    )
    assert response.status_code == 302
    sync = Sync.objects.get()
    assert sync.field_mappings == {"username": "name", "email": "contact"}
    form = admin_client.get(change_url(sync)).context["adminform"].form
    # One line per mapping (PostgreSQL's jsonb keeps no key order).
    shown = form["field_mappings"].value()
    assert sorted(shown.splitlines()) == ["email=contact", "username=name"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("username", "Line 1: write source_field=target_field."),
        ("a=b\n=c", "Line 2: write source_field=target_field."),
        ("a=b\na=c", "Line 2: a is mapped twice."),
        ("{", "Enter a valid JSON."),
    ],
)
def test_malformed_mapping_lines_are_refused(admin_client, text, message):
    source, target = PlatformFactory(), PlatformFactory()
    response = admin_client.post(
        ADD_URL, sync_form(source, target, field_mappings=text)
    )
    assert response.context["adminform"].form.errors["field_mappings"] == [message]


def test_the_mappings_field_round_trips_a_dict():
    field = FieldMappingsField(required=False)
    text = field.prepare_value({"a": "b", "c": "d"})
    assert text == "a=b\nc=d"
    assert field.clean(text) == {"a": "b", "c": "d"}
    assert field.clean("") == {}
    assert field.clean('{"x": "y"}') == {"x": "y"}  # pasted JSON still works


def compatibility(client, source, target, **values):
    query = {
        "source_platform": source.pk,
        "source_model": "auth.User",
        "target_platform": target.pk,
        "target_model": "auth.User",
        "field_mappings": "",
        "sync_all_fields": "on",
        **values,
    }
    return client.get(COMPATIBILITY_URL, query)


def test_compatibility_of_equal_models_is_ok(admin_client, current_platform):
    answer = compatibility(
        admin_client, current_platform, current_platform, target_model="auth.User"
    )
    assert answer.status_code == 200
    assert answer.json() == {
        "ok": True,
        "warnings": [],
        "suggested": {},
        "suggested_text": "",
    }


def test_compatibility_warns_and_suggests_a_mapping(admin_client, current_platform):
    answer = compatibility(
        admin_client,
        current_platform,
        current_platform,
        source_model="auth.Group",
        target_model="platforms.Platform",
        field_mappings="permissions=locked",
    ).json()
    assert answer["ok"] is False
    assert (
        "permissions (ManyToManyField) is synced into locked (BooleanField): "
        "the types differ."
    ) in answer["warnings"]
    assert (
        "The target field domain gets no value from the source." in answer["warnings"]
    )
    assert answer["suggested"] == {"permissions": "locked"}


def test_compatibility_with_an_unreachable_platform_says_so(
    admin_client, current_platform
):
    far = PlatformFactory(name="Far", domain=closed_domain())
    answer = compatibility(admin_client, current_platform, far)
    assert answer.status_code == 502
    assert answer.json()["detail"].startswith("The platform Far could not be reached")


def test_compatibility_needs_both_sides(admin_client, current_platform):
    answer = admin_client.get(COMPATIBILITY_URL, {"source_model": "auth.User"})
    assert answer.status_code == 400
    assert "source_platform" in answer.json()["detail"]


def test_saving_warns_about_the_models_and_suggests_mappings(
    admin_client, current_platform
):
    form = sync_form(
        current_platform,
        current_platform,
        source_model="auth.User",
        target_model="platforms.Platform",
    )
    shown = messages_of(admin_client.post(ADD_URL, form, follow=True))
    assert Sync.objects.filter(target_model="platforms.Platform").exists()
    warning = next(m for m in shown if m.startswith("Check the field mappings:"))
    assert "The source field username is missing on the target." in warning
    assert "The target field domain gets no value from the source." in warning
    assert "Suggested field mappings: date_joined=created_at" in shown


def test_saving_with_an_unreachable_platform_still_saves(
    admin_client, current_platform
):
    far = PlatformFactory(domain=closed_domain())
    response = admin_client.post(ADD_URL, sync_form(current_platform, far), follow=True)
    assert Sync.objects.filter(target_platform=far).exists()
    assert any(
        m.startswith("The models could not be compared:") for m in messages_of(response)
    )


def test_saving_other_fields_compares_nothing(admin_client, current_platform):
    far = PlatformFactory(domain=closed_domain())
    sync = SyncFactory(source_platform=current_platform, target_platform=far)
    response = admin_client.post(
        change_url(sync),
        sync_form(current_platform, far, title="Renamed", interval="5"),
        follow=True,
    )
    sync.refresh_from_db()
    assert sync.title == "Renamed"
    assert not any("compared" in m for m in messages_of(response))
