"""The envelope: parsing, shape, allow-list and field rules without HTTP."""

import pytest

from syncs.models import Sync
from tests.factories import SyncFactory
from tests.webhooks.signed import user_event
from webhooks.envelope import (
    MAX_DEPTH,
    EnvelopeRefused,
    EnvelopeSerializer,
    envelope_parse,
    envelope_sync_for,
    fields_check,
    fields_mapped,
)

pytestmark = pytest.mark.django_db


def _sync(**fields) -> Sync:
    return Sync(**({"source_model": "auth.User", "target_model": "auth.User"} | fields))


# --- parsing --------------------------------------------------------------------------


def test_parse_returns_plain_json():
    assert envelope_parse(b'{"a": [1, "\\u00e9", null, true]}') == {
        "a": [1, "\u00e9", None, True]
    }


@pytest.mark.parametrize(
    "body",
    [
        b'{"a": NaN}',
        b'{"a": Infinity}',
        b'{"a": -Infinity}',
        b'{"a": "\\u0000"}',
        b'{"\\u0000": 1}',
        b'{"a": "\\ud800"}',
        b'["\\udc00"]',
        b"\xff",
        b"[" * (MAX_DEPTH + 2) + b"]" * (MAX_DEPTH + 2),
        b"[" * 100_000,
    ],
)
def test_parse_refuses_what_no_database_can_store(body):
    with pytest.raises(ValueError):
        envelope_parse(body)


def test_parse_accepts_data_nested_up_to_the_limit():
    body = b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1)

    assert envelope_parse(body) is not None


def test_parse_accepts_a_surrogate_pair():
    assert envelope_parse(b'"\\ud83d\\ude00"') == "\U0001f600"


# --- shape ----------------------------------------------------------------------------


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


# --- field mappings -------------------------------------------------------------------


def test_all_fields_without_mappings_pass_unchanged():
    data = {"email": "a@b.c", "first_name": "A"}

    assert fields_mapped(_sync(), data) == data


def test_all_fields_with_a_mapping_rename_only_that_field():
    sync = _sync(field_mappings={"email": "last_name"})

    mapped = fields_mapped(sync, {"email": "a@b.c", "first_name": "A"})

    assert mapped == {"last_name": "a@b.c", "first_name": "A"}


def test_mapped_field_overrides_a_sent_field_it_is_renamed_to():
    sync = _sync(field_mappings={"first_name": "email"})

    mapped = fields_mapped(sync, {"first_name": "A", "email": "a@b.c"})

    assert mapped == {"email": "A"}


def test_only_mapped_fields_without_sync_all_fields():
    sync = _sync(sync_all_fields=False, field_mappings={"email": "email"})

    assert fields_mapped(sync, {"email": "a@b.c", "first_name": "A"}) == {
        "email": "a@b.c"
    }


def test_no_fields_without_sync_all_fields_or_mappings():
    assert fields_mapped(_sync(sync_all_fields=False), {"email": "a@b.c"}) == {}


# --- field check ----------------------------------------------------------------------


def test_concrete_fields_and_many_to_many_are_writable():
    fields_check(_sync(), {"username": "a", "groups": [], "last_login": None})


@pytest.mark.parametrize("name", ["id", "pk", "logentry", "nickname", "groups__name"])
def test_other_names_are_unknown_fields(name):
    with pytest.raises(EnvelopeRefused) as refused:
        fields_check(_sync(), {name: 1})

    assert (refused.value.code, refused.value.status) == ("unknown_field", 400)


def test_target_model_not_installed_is_refused():
    with pytest.raises(EnvelopeRefused) as refused:
        fields_check(_sync(target_model="shop.Product"), {"name": "x"})

    assert (refused.value.code, refused.value.status) == ("model_not_allowed", 403)


# --- allow-list -----------------------------------------------------------------------


def test_sync_for_event_is_looked_up_once_per_model(
    source, current_platform, user_sync, django_assert_num_queries
):
    cache: dict = {}
    event = user_event("alice")

    with django_assert_num_queries(1):
        for _ in range(3):
            found = envelope_sync_for(
                event, source=source, target=current_platform, syncs=cache
            )

    assert found == user_sync


def test_oldest_of_several_matching_syncs_is_used(source, current_platform, user_sync):
    SyncFactory(source_platform=source, target_platform=current_platform)

    found = envelope_sync_for(
        user_event("alice"), source=source, target=current_platform, syncs={}
    )

    assert found == user_sync
