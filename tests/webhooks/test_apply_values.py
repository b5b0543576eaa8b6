"""SyncJob checks values before it writes them; privileged fields are opt-in."""

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.urls import reverse

from demoapp.models import Document
from syncs.mapping import privileged_fields
from syncs.models import Sync
from tests.factories import SyncFactory, UserFactory, inbox_event
from tests.webhooks.signed import envelope, user_data, user_event, webhook_post
from webhooks.apply import inbox_apply_batch
from webhooks.models import AppliedVersion, InboxEvent
from webhooks.tasks import inbox_apply

pytestmark = pytest.mark.django_db

PRIVILEGED = {"password", "is_staff", "is_superuser", "user_permissions"}


def _applied(sync: Sync, key, data: dict, *, version: int = 1) -> InboxEvent:
    event = inbox_event(sync, key, data=data, version=version)
    inbox_apply_batch(size=100)
    event.refresh_from_db()
    return event


def _failed(sync: Sync, key, data: dict, *, version: int = 1) -> str:
    """Apply one event that must fail; return its error."""
    event = _applied(sync, key, data, version=version)
    assert event.status == InboxEvent.Status.FAILED
    assert not AppliedVersion.objects.filter(version=version).exists()
    return event.error


# --- values checked before they are written -------------------------------------------


def test_overlong_username_fails_its_event_and_writes_nothing(user_sync):
    name = "u" * 300

    error = _failed(user_sync, [name], user_data(name))

    assert "username: Ensure this value has at most 150 characters" in error
    assert not User.objects.exists()
    user_sync.refresh_from_db()
    assert user_sync.has_errors and "username" in user_sync.error_message


def test_megabyte_first_name_fails_without_echoing_the_value(user_sync):
    UserFactory(username="alice", first_name="Kept")

    error = _failed(user_sync, ["alice"], {"first_name": "x" * 1_000_000})

    assert "first_name: Ensure this value has at most 150 characters" in error
    assert len(error) < 500
    assert User.objects.get(username="alice").first_name == "Kept"


def test_empty_data_for_a_new_key_fails_instead_of_making_a_nameless_user(
    user_sync,
):
    error = _failed(user_sync, ["ghost"], {})

    assert "username: This field cannot be blank." in error
    assert not User.objects.exists()


def test_value_that_is_not_a_choice_fails(source, current_platform, user_sync):
    syncs_sync = SyncFactory(
        source_platform=source,
        target_platform=current_platform,
        source_model="syncs.Sync",
        target_model="syncs.Sync",
    )

    error = _failed(syncs_sync, str(user_sync.uuid), {"if_exists": "explode"})

    assert "if_exists: Value 'explode' is not a valid choice." in error
    user_sync.refresh_from_db()
    assert user_sync.if_exists == Sync.IfExists.UPDATE


def test_value_of_the_wrong_type_fails(user_sync):
    UserFactory(username="alice")

    error = _failed(user_sync, ["alice"], {"is_active": "perhaps"})

    assert error.startswith("EventDataInvalid: is_active: ")
    assert User.objects.get(username="alice").is_active


def test_group_named_by_a_raw_id_fails_even_when_that_id_exists(user_sync):
    editors = Group.objects.create(name="editors")

    error = _failed(user_sync, ["alice"], user_data("alice", groups=[editors.pk]))

    assert "groups: " in error and "is not a natural key" in error
    assert not User.objects.exists()


def test_foreign_key_named_by_a_raw_id_fails(source, current_platform):
    sync = SyncFactory(
        source_platform=source,
        target_platform=current_platform,
        source_model="auth.Permission",
        target_model="auth.Permission",
    )
    data = {"name": "Can fly", "codename": "fly", "content_type": 1}

    error = _failed(sync, ["fly", "auth", "user"], data)

    assert "content_type: " in error and "is not a natural key" in error
    assert not Permission.objects.filter(codename="fly").exists()


def test_format_rules_the_source_did_not_keep_do_not_stop_a_record(user_sync):
    """The source holds what its own code saved: the target stores it as well."""
    event = _applied(user_sync, ["a b"], user_data("a b", email="0@0", password=""))

    assert event.status == InboxEvent.Status.APPLIED, event.error
    assert User.objects.get(username="a b").email == "0@0"


# --- file fields are set by the file transfer only ------------------------------------


def test_path_in_a_file_field_is_not_written(doc_sync):
    Document.objects.create(slug="doc", title="Old", attachment="documents/mine.png")

    event = _applied(
        doc_sync, "doc", {"title": "New", "attachment": "documents/other.png"}
    )

    assert event.status == InboxEvent.Status.APPLIED, event.error
    doc = Document.objects.get(slug="doc")
    assert (doc.title, doc.attachment.name) == ("New", "documents/mine.png")


def test_new_record_keeps_its_file_field_empty_whatever_path_is_sent(doc_sync):
    data = {"slug": "doc", "title": "T", "attachment": "documents/other.png"}

    assert _applied(doc_sync, "doc", data).status == InboxEvent.Status.APPLIED

    assert Document.objects.get(slug="doc").attachment.name == ""


@pytest.mark.parametrize(
    "path", ["../../../../etc/passwd", "/etc/passwd", "documents/../../x.png"]
)
def test_path_leaving_the_storage_fails_its_event(doc_sync, path):
    Document.objects.create(slug="doc", title="Old", attachment="documents/mine.png")

    error = _failed(doc_sync, "doc", {"title": "New", "attachment": path})

    assert "attachment: " in error and "is not a safe file name" in error
    doc = Document.objects.get(slug="doc")
    assert (doc.title, doc.attachment.name) == ("Old", "documents/mine.png")


def test_file_field_value_that_is_no_description_fails(doc_sync):
    error = _failed(doc_sync, "doc", {"slug": "doc", "title": "T", "cover": 42})

    assert "cover: A file field takes a file description" in error
    assert not Document.objects.exists()


def test_emptied_file_field_is_emptied(doc_sync):
    Document.objects.create(slug="doc", title="T", attachment="documents/mine.png")

    assert _applied(doc_sync, "doc", {"attachment": ""}).status == "applied"

    assert Document.objects.get(slug="doc").attachment.name == ""


# --- privileged fields ----------------------------------------------------------------


def test_all_fields_sync_leaves_the_targets_own_admin_privileges_alone(user_sync):
    admin = UserFactory(
        username="admin", password="targets-own", is_staff=True, is_superuser=True
    )
    data = user_data(
        "admin",
        password="sources-pass",
        first_name="From source",
        user_permissions=[["view_user", "auth", "user"]],
    )

    assert _applied(user_sync, ["admin"], data).status == "applied"

    admin.refresh_from_db()
    assert admin.first_name == "From source"
    assert admin.check_password("targets-own")
    assert (admin.is_staff, admin.is_superuser) == (True, True)
    assert not admin.user_permissions.exists()


def test_new_user_of_an_all_fields_sync_gets_no_privileges(user_sync):
    data = user_data("eve", password="eves-pass", is_staff=True, is_superuser=True)

    assert _applied(user_sync, ["eve"], data).status == "applied"

    eve = User.objects.get(username="eve")
    assert not eve.check_password("eves-pass")
    assert (eve.is_staff, eve.is_superuser) == (False, False)


def test_privileged_fields_named_by_the_mappings_are_written(user_sync):
    user_sync.field_mappings = {name: name for name in PRIVILEGED}
    user_sync.save()
    data = user_data(
        "eve",
        password="eves-pass",
        is_staff=True,
        is_superuser=True,
        user_permissions=[["view_user", "auth", "user"]],
    )

    assert _applied(user_sync, ["eve"], data).status == "applied"

    eve = User.objects.get(username="eve")
    assert eve.check_password("eves-pass")
    assert (eve.is_staff, eve.is_superuser) == (True, True)
    assert eve.has_perm("auth.view_user")


def test_webhook_does_not_store_privileged_fields_the_sync_leaves_out(
    client, source, user_sync
):
    user_sync.field_mappings = {"is_staff": "is_staff"}
    user_sync.save()

    webhook_post(client, envelope(source.domain, [user_event("eve")]), sender=source)

    stored = InboxEvent.objects.get().data
    assert "is_staff" in stored
    assert not {"password", "is_superuser", "user_permissions"} & set(stored)


def test_privileged_fields_are_a_setting_of_each_site(user_sync, settings):
    settings.SYNC_PRIVILEGED_FIELDS = {"auth.User": ["first_name"]}
    UserFactory(username="alice", first_name="Mine", is_staff=False)

    _applied(user_sync, ["alice"], {"first_name": "Theirs", "is_staff": True})

    alice = User.objects.get(username="alice")
    assert (alice.first_name, alice.is_staff) == ("Mine", True)


def test_privileged_fields_read_from_the_environment_split_on_semicolons(settings):
    settings.SYNC_PRIVILEGED_FIELDS = {"auth.user": "is_staff;password"}

    assert privileged_fields("auth.User") == {"is_staff", "password"}
    assert privileged_fields("auth.Group") == frozenset()


# --- retry ----------------------------------------------------------------------------


def test_failed_event_retried_from_the_admin_applies_once_fixed(
    admin_client, user_sync, django_capture_on_commit_callbacks, monkeypatch
):
    # SyncJob runs in this process instead of through the broker.
    monkeypatch.setattr(inbox_apply, "delay", lambda: inbox_apply_batch(size=10))
    error = _failed(user_sync, ["alice"], user_data("alice", groups=[["editors"]]))
    assert "no auth.Group has the natural key ['editors']" in error
    Group.objects.create(name="editors")
    event = InboxEvent.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            reverse("admin:webhooks_inboxevent_changelist"),
            {"action": "retry", "_selected_action": [event.pk]},
        )

    event.refresh_from_db()
    assert (event.status, event.error) == ("applied", "")
    assert list(User.objects.get(username="alice").groups.values_list("name")) == [
        ("editors",)
    ]
    user_sync.refresh_from_db()
    assert not user_sync.has_errors
