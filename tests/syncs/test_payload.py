import json

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder

from platforms.services import platform_relations_add
from syncs.bindings import bindings_reset
from syncs.identity import records_serialize
from syncs.models import OutboxEvent
from syncs.payload import EnvelopeSerializer, envelope_build
from tests.factories import PlatformFactory, SyncFactory, UserFactory
from tests.webhooks.signed import user_event

pytestmark = pytest.mark.django_db


class UsernameTransformer:
    """Send users as their shouted username only."""

    def transform(self, record) -> dict:
        return {"username": record.username.upper()}


def _rows() -> list[OutboxEvent]:
    return list(OutboxEvent.objects.select_related("sync").order_by("pk"))


def _envelope(source, target, rows=None) -> dict:
    body = envelope_build(
        source=source, target=target, rows=_rows() if rows is None else rows
    )
    return json.loads(body)


def _events(source, target, rows=None) -> list[dict]:
    return _envelope(source, target, rows)["events"]


# --- the schema -----------------------------------------------------------------------


def test_valid_envelope_keeps_its_events():
    event = user_event("alice", platforms=["a.test"])
    serializer = EnvelopeSerializer(data={"source": "b.test", "events": [event]})

    assert serializer.is_valid(), serializer.errors
    validated = serializer.validated_data["events"][0]
    assert validated["key"] == ["alice"]
    assert validated["should_delete"] is False
    assert validated["platforms"] == ["a.test"]


@pytest.mark.parametrize("key", ["alice", 7, ["alice"], ["auth", "user", 3]])
def test_key_may_be_a_string_an_integer_or_a_list_of_them(key):
    event = user_event("alice", key=key)
    serializer = EnvelopeSerializer(data={"source": "b.test", "events": [event]})

    assert serializer.is_valid(), serializer.errors


@pytest.mark.parametrize("value", [True, False])
def test_should_delete_takes_json_booleans(value):
    event = user_event("alice", should_delete=value)
    serializer = EnvelopeSerializer(data={"source": "b.test", "events": [event]})

    assert serializer.is_valid()
    assert serializer.validated_data["events"][0]["should_delete"] is value


def test_every_envelope_built_is_valid_by_the_schema(current_platform, target):
    SyncFactory(
        source_platform=current_platform,
        target_platform=target,
        use_platform_relations=True,
    )
    ada, bob = UserFactory(username="ada"), UserFactory(username="bob")
    platform_relations_add(record=ada, platforms=[target])
    bob.delete()
    envelope = _envelope(current_platform, target)

    serializer = EnvelopeSerializer(data=envelope)

    assert serializer.is_valid(), serializer.errors
    assert [dict(event) for event in serializer.validated_data["events"]] == (
        envelope["events"]
    )


# --- building -------------------------------------------------------------------------


def test_envelope_names_the_source_and_carries_one_event_per_row(
    current_platform, target, user_sync
):
    user = UserFactory(username="ada")
    (row,) = _rows()

    envelope = _envelope(current_platform, target)

    assert envelope["source"] == "a.test"
    (event,) = envelope["events"]
    assert event["id"] == row.event_id != str(row.pk)
    assert event["version"] == row.version
    assert event["type"] == "created"
    assert event["model"] == "auth.User"
    assert event["source_model"] == "auth.User"
    assert event["key"] == ["ada"]
    assert event["data"]["username"] == "ada"
    assert event["data"]["email"] == user.email
    assert event["should_delete"] is False
    assert "platforms" not in event


def test_envelope_uses_the_sync_target_model(current_platform, target):
    SyncFactory(
        source_platform=current_platform,
        target_platform=target,
        target_model="accounts.Member",
    )
    UserFactory(username="ada")

    (event,) = _events(current_platform, target)

    assert event["model"] == "accounts.Member"
    assert event["source_model"] == "auth.User"


def test_several_rows_of_one_record_travel_as_its_newest_version(
    current_platform, target, user_sync
):
    user = UserFactory(username="ada")
    user.first_name = "Ada"
    user.save()
    user.last_name = "Lovelace"
    user.save()
    newest = _rows()[-1]

    (event,) = _events(current_platform, target)

    assert event["id"] == newest.event_id
    assert event["version"] == newest.version
    assert event["type"] == "updated"
    assert event["data"]["last_name"] == "Lovelace"


def test_events_of_different_records_keep_the_order_of_their_rows(
    current_platform, target, user_sync
):
    ada = UserFactory(username="ada")
    UserFactory(username="bob")
    ada.save()  # ada's newest row now comes after bob's

    events = _events(current_platform, target)

    assert [event["key"] for event in events] == [["bob"], ["ada"]]
    assert [event["version"] for event in events] == sorted(
        event["version"] for event in events
    )


def test_events_of_several_syncs_are_ordered_by_version(
    current_platform, target, user_sync
):
    SyncFactory(
        source_platform=current_platform,
        target_platform=target,
        source_model="auth.Group",
        target_model="auth.Group",
    )
    UserFactory(username="ada")
    Group.objects.create(name="editors")
    UserFactory(username="bob")

    events = _events(current_platform, target)

    assert [event["key"] for event in events] == [["ada"], ["editors"], ["bob"]]


def test_record_deleted_since_its_row_was_written_travels_as_a_delete(
    current_platform, target, user_sync
):
    user = UserFactory(username="ada")
    rows = _rows()  # read by a delivery before the delete
    user.delete()

    (event,) = _events(current_platform, target, rows)

    assert event["type"] == "deleted"
    assert event["key"] == ["ada"]
    assert event["data"] == {}
    assert event["should_delete"] is True


def test_delete_row_travels_as_a_delete_with_the_record_key(
    current_platform, target, user_sync
):
    UserFactory(username="ada").delete()

    (event,) = _events(current_platform, target)

    assert event["type"] == "deleted"
    assert event["key"] == ["ada"]
    assert event["should_delete"] is True


def test_many_to_many_values_travel_as_natural_keys(
    current_platform, target, user_sync
):
    user = UserFactory(username="ada")
    user.groups.add(Group.objects.create(name="editors"))
    user.user_permissions.add(Permission.objects.get(codename="view_user"))

    events = _events(current_platform, target)

    data = events[-1]["data"]
    assert data["groups"] == [["editors"]]
    assert data["user_permissions"] == [["view_user", "auth", "user"]]


def test_foreign_keys_travel_as_natural_keys(current_platform, target):
    SyncFactory(
        source_platform=current_platform,
        target_platform=target,
        source_model="auth.Permission",
        target_model="auth.Permission",
    )
    Permission.objects.create(
        codename="audit_user",
        name="Can audit user",
        content_type=ContentType.objects.get_for_model(User),
    )

    (event,) = _events(current_platform, target)

    assert event["key"] == ["audit_user", "auth", "user"]
    assert event["data"]["content_type"] == ["auth", "user"]


def test_password_hash_travels_unchanged(current_platform, target, user_sync):
    user = UserFactory(username="ada")

    (event,) = _events(current_platform, target)

    assert event["data"]["password"] == user.password
    assert User.objects.get(pk=user.pk).password == event["data"]["password"]


def test_with_platform_relations_a_record_not_related_to_the_target_is_a_delete(
    current_platform, target
):
    SyncFactory(
        source_platform=current_platform,
        target_platform=target,
        use_platform_relations=True,
    )
    elsewhere = PlatformFactory(name="C", domain="c.test")
    ada, bob = UserFactory(username="ada"), UserFactory(username="bob")
    platform_relations_add(record=ada, platforms=[target])
    platform_relations_add(record=bob, platforms=[elsewhere])

    events = {tuple(e["key"]): e for e in _events(current_platform, target)}

    assert events[("ada",)]["should_delete"] is False
    assert events[("ada",)]["platforms"] == ["b.test"]
    assert events[("bob",)]["should_delete"] is True
    assert events[("bob",)]["platforms"] == ["c.test"]


def test_relations_travel_even_when_no_record_has_any_left(
    settings, current_platform, target, user_sync
):
    # The target needs an empty list to drop relations it still holds.
    settings.SYNC_MODELS_WITH_PLATFORM_RELATIONS = ["auth.User"]
    UserFactory(username="ada")

    (event,) = _events(current_platform, target)

    assert event["platforms"] == []
    assert event["should_delete"] is False  # the sync does not filter by relation


def test_transformer_output_replaces_the_serialized_data(
    settings, current_platform, target
):
    settings.SYNC_TRANSFORMER_BINDINGS = {
        "auth.User": "tests.syncs.test_payload.UsernameTransformer"
    }
    bindings_reset()
    SyncFactory(
        source_platform=current_platform,
        target_platform=target,
        use_transformer_class=True,
    )
    UserFactory(username="ada")

    (event,) = _events(current_platform, target)

    assert event["data"] == {"username": "ADA"}


def test_bound_transformer_is_not_used_by_a_sync_that_does_not_ask_for_it(
    settings, current_platform, target, user_sync
):
    settings.SYNC_TRANSFORMER_BINDINGS = {
        "auth.User": "tests.syncs.test_payload.UsernameTransformer"
    }
    bindings_reset()
    UserFactory(username="ada")

    (event,) = _events(current_platform, target)

    assert event["data"]["username"] == "ada"
    assert "password" in event["data"]


def test_event_data_is_what_records_serialize_writes(current_platform, target):
    from demoapp.models import Document

    for label in ("auth.User", "auth.Group", "auth.Permission", "demoapp.Document"):
        SyncFactory(
            source_platform=current_platform,
            target_platform=target,
            source_model=label,
            target_model=label,
        )
    editors, writers = Group.objects.create(name="ed"), Group.objects.create(name="wr")
    # Their Meta.ordering, their pk order and their natural keys' order differ.
    granted = Permission.objects.filter(
        codename__in=["view_permission", "add_group", "change_logentry"]
    )
    editors.permissions.add(*granted)
    ada = UserFactory(username="ada")
    ada.groups.add(editors, writers)
    ada.user_permissions.add(*granted)
    UserFactory(username="bob")
    Document.objects.create(slug="a", title="A", attachment="documents/a.png")
    Permission.objects.create(
        codename="audit_user",
        name="Can audit user",
        content_type=ContentType.objects.get_for_model(User),
    )
    records = {
        (event["source_model"], event["source_pk"]): event["data"]
        for event in _events(current_platform, target)
    }

    for model in (User, Group, Document):
        expected = records_serialize(list(model.objects.order_by("pk")))
        found = [records[(model._meta.label, str(pk))] for pk in _pks(model)]
        assert found == json.loads(json.dumps(expected, cls=DjangoJSONEncoder))
    audit = Permission.objects.get(codename="audit_user")
    assert records[("auth.Permission", str(audit.pk))] == json.loads(
        json.dumps(records_serialize([audit])[0], cls=DjangoJSONEncoder)
    )


def _pks(model) -> list:
    return list(model.objects.order_by("pk").values_list("pk", flat=True))
