"""Digests: buckets, record digests and what they compare, on a real database."""

from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import Group, Permission, User

from platforms.models import Platform
from syncs.digest.hashing import (
    MAX_BUCKETS,
    bucket_count,
    bucket_count_valid,
    bucket_of,
    buckets_decode,
    buckets_differing,
    buckets_encode,
    record_digest,
)
from syncs.digest.records import (
    digest_queryset,
    fields_comparable,
    key_queryset,
    model_field_names,
    records_data,
)
from syncs.digest.scan import bucket_digests, bucket_entries, model_scope
from syncs.identity import (
    NATURAL_KEY,
    record_key,
    record_key_digest,
    records_serialize,
)
from tests.factories import PlatformFactory, UserFactory

pytestmark = pytest.mark.django_db

USER_FIELDS = ["date_joined", "email", "groups", "password", "username"]
JOINED = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)


def _sorted_m2m(data: dict, names: list[str]) -> dict:
    return data | {name: sorted(data[name]) for name in names}


def test_bucket_count_is_a_power_of_two_that_grows_with_the_table():
    counts = [bucket_count(n) for n in (0, 1, 32, 33, 1000, 100_000, 10**9)]
    assert counts == [1, 1, 1, 2, 32, 4096, MAX_BUCKETS]
    assert all(bucket_count_valid(count) for count in counts)
    assert not bucket_count_valid(3) and not bucket_count_valid(0)


def test_keys_spread_over_every_bucket_and_always_land_in_the_same_one():
    digests = [record_key_digest([f"user{i}"]) for i in range(1000)]
    buckets = [bucket_of(digest, 16) for digest in digests]
    assert set(buckets) == set(range(16))
    assert buckets == [bucket_of(digest, 16) for digest in digests]


def test_record_digest_ignores_key_order_and_sub_millisecond_time():
    key = record_key_digest(["ada"])
    sent = {"a": 1, "at": datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)}
    stored = {"at": datetime(2024, 5, 1, 12, 0, 0, 123000, tzinfo=UTC), "a": 1}
    assert record_digest(key, sent) == record_digest(key, stored)
    assert record_digest(key, sent) != record_digest(key, sent | {"a": 2})
    assert record_digest(key, sent) != record_digest(record_key_digest(["bob"]), sent)


def test_bucket_digests_travel_as_base64_and_differences_are_named():
    digests = [0, 2**64 - 1, 12345, 7]
    assert buckets_decode(buckets_encode(digests), 4) == digests
    assert buckets_differing(digests, [0, 2**64 - 1, 1, 7]) == [2]
    with pytest.raises(ValueError):
        buckets_decode(buckets_encode(digests), 8)
    with pytest.raises(ValueError):
        buckets_decode("not base64!", 4)


def test_records_data_is_what_records_serialize_writes():
    from demoapp.models import Document

    editors, writers = Group.objects.create(name="ed"), Group.objects.create(name="wr")
    editors.permissions.add(*Permission.objects.order_by("-pk")[:3])
    ada = UserFactory(username="ada")
    ada.groups.add(writers, editors)
    ada.user_permissions.add(Permission.objects.get(codename="view_user"))
    UserFactory(username="bob")
    PlatformFactory()
    Document.objects.create(slug="a", title="A", attachment="documents/a.png")
    for records, m2m in (
        (list(Document.objects.all()), []),
        (list(User.objects.order_by("pk")), ["groups", "user_permissions"]),
        (list(Group.objects.order_by("pk")), ["permissions"]),
        (list(Permission.objects.order_by("pk")[:20]), []),
        (list(Platform.objects.all()), []),
    ):
        expected = [_sorted_m2m(data, m2m) for data in records_serialize(records)]
        assert records_data(records) == expected


def test_records_data_keeps_only_the_fields_asked_for():
    ada = UserFactory(username="ada")
    ada.groups.add(Group.objects.create(name="ed"))
    assert records_data([ada], fields=["username", "groups"]) == [
        {"username": "ada", "groups": [("ed",)]}
    ]


def test_fields_stamped_by_the_target_are_not_compared(settings):
    from demoapp.models import Document

    names = model_field_names(Document)
    assert fields_comparable(Document, names) == [
        "slug",
        "title",
        "attachment",
        "cover",
    ]
    settings.FILE_SYNC_ENABLED = True
    assert fields_comparable(Document, names) == ["slug", "title"]
    # Passwords travel as hashes and last_login as a value: both compare.
    assert "password" in fields_comparable(User, model_field_names(User))
    assert "last_login" in fields_comparable(User, model_field_names(User))


def _digests(buckets: int = 4):
    scope = model_scope(User, identifier="natural_key", fields=USER_FIELDS)
    return bucket_digests(scope, buckets=buckets)


def test_same_records_have_the_same_digests_whatever_their_ids():
    for name in ("ada", "bob", "cyd"):
        User.objects.create(username=name, password="!", date_joined=JOINED)
    before = _digests()
    User.objects.all().delete()
    for name in ("cyd", "ada", "bob"):
        User.objects.create(username=name, password="!", date_joined=JOINED)

    after = _digests()

    assert after.digests == before.digests
    assert sum(after.counts) == 3


def test_one_changed_record_changes_one_bucket():
    for i in range(40):
        UserFactory(username=f"user{i}")
    before = _digests(16)
    User.objects.filter(username="user7").update(email="new@a.test")

    after = _digests(16)

    differing = buckets_differing(before.digests, after.digests)
    assert differing == [bucket_of(record_key_digest(["user7"]), 16)]


def test_bucket_entries_list_only_the_buckets_asked_for():
    for i in range(40):
        UserFactory(username=f"user{i}")
    scope = model_scope(User, identifier="natural_key", fields=USER_FIELDS)
    wanted = bucket_of(record_key_digest(["user7"]), 16)

    entries = bucket_entries(scope, buckets=16, numbers={wanted})

    assert set(entries) == {wanted}
    assert record_key_digest(["user7"]) in entries[wanted]
    entry = entries[wanted][record_key_digest(["user7"])]
    user = User.objects.get(username="user7")
    assert entry.key == ["user7"] and entry.pk == str(user.pk)
    data = records_data([user], fields=USER_FIELDS)[0]
    assert entry.digest == record_digest(record_key_digest(["user7"]), data).hex()
    assert all(bucket_of(kd, 16) == wanted for kd in entries[wanted])


def test_key_walks_load_only_the_fields_natural_keys_read():
    UserFactory(username="ada")
    users = key_queryset(digest_queryset(User), NATURAL_KEY)
    assert users.query.deferred_loading == (frozenset({"username"}), False)
    assert [record.natural_key() for record in users] == [("ada",)]
    # Permission's natural key follows its content type: nothing is left out.
    permissions = digest_queryset(Permission)
    assert key_queryset(permissions, NATURAL_KEY) is permissions
    assert key_queryset(digest_queryset(Platform), "uuid").query.deferred_loading == (
        frozenset({"uuid"}),
        False,
    )


def test_keys_that_are_not_json_are_listed_as_record_key_writes_them():
    platform = PlatformFactory()
    scope = model_scope(Platform, identifier="uuid", fields=["name"])
    wanted = bucket_of(record_key_digest(str(platform.uuid)), 2)

    entries = bucket_entries(scope, buckets=2, numbers={wanted})

    (entry,) = entries[wanted].values()
    assert entry.key == record_key(platform, "uuid") == str(platform.uuid)
