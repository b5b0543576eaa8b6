import json

import pytest
from django.contrib.auth.models import Group, User

from platforms.models import Platform
from syncs.identity import (
    NATURAL_KEY,
    IdentityError,
    model_identifier,
    model_identifier_require,
    record_find,
    record_key,
    record_key_digest,
    record_key_json,
    records_serialize,
)
from tests.factories import PlatformFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_user_is_matched_by_its_natural_key():
    user = UserFactory(username="ada")

    assert model_identifier(User) == NATURAL_KEY
    assert record_key(user, NATURAL_KEY) == ["ada"]


def test_group_is_matched_by_its_natural_key():
    assert model_identifier(Group) == NATURAL_KEY


def test_model_without_natural_key_is_matched_by_first_unique_identifier_field():
    # Platform has unique uuid and name; uuid comes first in the setting.
    assert model_identifier_require("platforms.Platform") == "uuid"


def test_identifier_fields_are_tried_in_the_configured_order(settings):
    settings.SYNC_UNIQUE_IDENTIFIER_FIELDS = ["slug", "name", "uuid"]

    assert model_identifier(Platform) == "name"


def test_non_unique_identifier_field_is_not_used(settings):
    # Sync.title exists but is not unique.
    settings.SYNC_UNIQUE_IDENTIFIER_FIELDS = ["title"]

    with pytest.raises(IdentityError):
        model_identifier_require("syncs.Sync")


def test_model_with_no_usable_key_raises_identity_error_saying_why():
    with pytest.raises(IdentityError) as error:
        model_identifier_require("webhooks.AppliedVersion")

    message = str(error.value)
    assert "webhooks.AppliedVersion has no natural key" in message
    assert "ulid, uuid, slug, name, title" in message
    assert "natural_key()" in message


def test_unknown_model_label_raises_lookup_error():
    with pytest.raises(LookupError):
        model_identifier_require("nope.Missing")


def test_uuid_key_is_stored_as_its_json_string():
    platform = PlatformFactory()

    key = record_key(platform, "uuid")

    assert key == str(platform.uuid)


class _Keyed:
    def __init__(self, key):
        self.key = key

    def natural_key(self):
        return self.key


@pytest.mark.parametrize(
    "key",
    [
        ("ada",),
        ("ada", "lovelace"),
        ('quote " back \\ slash', "é 中 \n"),
        (),
        ("ada", 7),  # not all strings: the encoder's path
        ["ada"],
        "ada",  # not a tuple: the encoder's path
    ],
)
def test_natural_key_json_is_what_the_json_encoder_writes(key):
    assert record_key_json(_Keyed(key), NATURAL_KEY) == json.dumps(key)


def test_record_is_found_by_natural_key():
    user = UserFactory(username="ada")

    assert record_find(User, NATURAL_KEY, ["ada"]) == user


def test_record_is_found_by_identifier_field():
    platform = PlatformFactory()

    found = record_find(Platform, "uuid", record_key(platform, "uuid"))

    assert found == platform


def test_unknown_key_finds_nothing():
    UserFactory(username="ada")

    assert record_find(User, NATURAL_KEY, ["grace"]) is None
    assert record_find(Platform, "uuid", "4f1c9a4e-9d2b-4a59-9a3b-0d8d7f0e9d11") is None


@pytest.mark.parametrize(
    ("model", "identifier", "key"),
    [
        (User, NATURAL_KEY, "ada"),  # a natural key must be a list
        (User, NATURAL_KEY, ["ada", "extra"]),  # of the right length
        (Platform, "uuid", "not-a-uuid"),
    ],
)
def test_malformed_key_finds_nothing(model, identifier, key):
    UserFactory(username="ada")

    assert record_find(model, identifier, key) is None


def test_key_digest_is_stable_and_distinguishes_keys():
    digest = record_key_digest(["ada"])

    assert digest == record_key_digest(["ada"])
    assert len(digest) == 40
    assert digest != record_key_digest(["grace"])
    assert digest != record_key_digest("ada")


def test_key_digest_is_the_same_before_and_after_the_json_round_trip():
    platform = PlatformFactory()

    assert record_key_digest(platform.uuid) == record_key_digest(str(platform.uuid))


def test_serialized_user_carries_groups_as_natural_keys_and_the_password_hash():
    user = UserFactory(username="ada")
    user.groups.add(Group.objects.create(name="editors"))

    (fields,) = records_serialize([user])

    assert fields["username"] == "ada"
    assert fields["groups"] == [("editors",)]
    assert fields["password"] == user.password
    assert fields["password"].startswith("md5$")
