"""The platform list on the wire and its application on a receiving platform."""

import uuid

import pytest
from django.db import IntegrityError
from django.utils import timezone

from platforms.credentials import api_token_generate, signing_secret_generate
from platforms.keys import platform_key_issue
from platforms.models import Platform, PlatformKey
from platforms.push import PUSH_FIELDS, push_rows, push_rows_apply
from platforms.signing import key_pair_generate
from tests.factories import PlatformFactory, SyncFactory

pytestmark = pytest.mark.django_db


def row(domain: str, **fields) -> dict:
    """Return a validated row of the master's list (uuid a UUID)."""
    return {
        "uuid": uuid.uuid4(),
        "name": domain.upper(),
        "domain": domain,
        "scheme": "https",
        "ip_address": None,
        "master": False,
        "locked": False,
        "lock_reason": "",
        "show_in_menu": False,
        "order": 0,
        "api_token": api_token_generate(),
        "signing_secret": signing_secret_generate(),
    } | fields


def row_of(platform: Platform, **fields) -> dict:
    """Return a platform's row as the master sends it, with some fields changed."""
    values = {name: getattr(platform, name) for name in PUSH_FIELDS}
    return values | fields


def _state() -> dict[str, dict]:
    return {str(p["uuid"]): p for p in Platform.objects.values(*PUSH_FIELDS)}


def test_rows_carry_every_platform_with_its_credentials():
    platform = PlatformFactory(ip_address="10.0.0.1", master=True)

    (sent,) = push_rows(source=platform, target=platform)

    assert set(sent) == {*PUSH_FIELDS, "keys"}
    assert sent["uuid"] == str(platform.uuid)
    assert sent["api_token"] == platform.api_token
    assert sent["signing_secret"] == platform.signing_secret
    assert (sent["master"], sent["ip_address"]) == (True, "10.0.0.1")


def test_apply_creates_the_listed_platforms(current_platform):
    master = row("m.test", master=True, ip_address="10.0.0.9", order=3)
    other = row("c.test", scheme="http")

    report = push_rows_apply(rows=[master, row_of(current_platform), other])

    assert report.created == ["m.test", "c.test"]
    assert report.updated == report.deleted == report.kept == []
    state = _state()
    assert state[str(master["uuid"])] == master
    assert state[str(other["uuid"])] == other


def test_apply_updates_by_uuid_so_a_renamed_platform_stays_the_same_row():
    platform = PlatformFactory(name="Old", domain="old.test")
    sync = SyncFactory(source_platform=platform)

    report = push_rows_apply(rows=[row_of(platform, name="New", domain="new.test")])

    assert report.updated == ["new.test"]
    platform.refresh_from_db()
    assert (platform.name, platform.domain) == ("New", "new.test")
    sync.refresh_from_db()
    assert sync.source_platform == platform


def test_own_row_installed_before_joining_adopts_the_masters_uuid_and_credentials(
    current_platform,
):
    listed = row(current_platform.domain, name="A on the master")

    report = push_rows_apply(rows=[listed])

    assert report.updated == [current_platform.domain]
    current_platform.refresh_from_db()
    assert current_platform.uuid == listed["uuid"]
    assert current_platform.api_token == listed["api_token"]
    assert current_platform.signing_secret == listed["signing_secret"]
    assert current_platform.name == "A on the master"


def test_a_domain_is_not_taken_from_a_platform_whose_own_uuid_is_listed():
    moved = PlatformFactory(domain="d1.test")
    newcomer = row("d1.test")

    report = push_rows_apply(rows=[row_of(moved, domain="d2.test"), newcomer])

    assert report.updated == ["d2.test"] and report.created == ["d1.test"]
    assert Platform.objects.get(uuid=moved.uuid).domain == "d2.test"
    assert Platform.objects.get(uuid=newcomer["uuid"]).domain == "d1.test"


def test_two_platforms_can_swap_names_domains_tokens_and_the_master_role():
    one = PlatformFactory(name="One", domain="one.test", master=True)
    two = PlatformFactory(name="Two", domain="two.test")
    swapped = [
        row_of(one, name="Two", domain="two.test", api_token=two.api_token),
        row_of(two, name="One", domain="one.test", api_token=one.api_token),
    ]
    swapped[0]["master"], swapped[1]["master"] = False, True

    push_rows_apply(rows=swapped)

    one.refresh_from_db()
    two.refresh_from_db()
    assert (one.name, one.domain, one.master) == ("Two", "two.test", False)
    assert (two.name, two.domain, two.master) == ("One", "one.test", True)


def test_second_apply_of_the_same_list_changes_nothing(current_platform):
    rows = [row("m.test", master=True), row_of(current_platform)]
    push_rows_apply(rows=rows)
    before = {p.pk: p.updated_at for p in Platform.objects.all()}

    report = push_rows_apply(rows=rows)

    assert report.as_dict() == {
        "created": [],
        "updated": [],
        "deleted": [],
        "kept": [],
        "held_keys": [],
    }
    assert {p.pk: p.updated_at for p in Platform.objects.all()} == before


def test_platforms_missing_from_the_list_are_deleted(current_platform):
    gone = PlatformFactory(domain="gone.test")

    report = push_rows_apply(rows=[row_of(current_platform)])

    assert report.deleted == ["gone.test"]
    assert not Platform.objects.filter(pk=gone.pk).exists()


def test_own_row_missing_from_the_list_is_kept(current_platform):
    master = row("m.test", master=True)

    report = push_rows_apply(rows=[master])

    assert report.kept == [current_platform.domain]
    assert Platform.objects.filter(pk=current_platform.pk).exists()


def test_unlisted_platform_still_used_by_a_sync_is_kept_and_loses_the_master_role(
    current_platform,
):
    old_master = PlatformFactory(domain="old-master.test", master=True)
    SyncFactory(source_platform=old_master, target_platform=current_platform)
    new_master = row("m.test", master=True)

    report = push_rows_apply(rows=[new_master, row_of(current_platform)])

    assert report.kept == ["old-master.test"]
    old_master.refresh_from_db()
    assert old_master.master is False
    assert Platform.objects.get(master=True).uuid == new_master["uuid"]


def test_list_that_clashes_with_a_kept_row_fails_and_changes_nothing(
    current_platform,
):
    kept = PlatformFactory(name="Kept", domain="kept.test")
    SyncFactory(source_platform=kept, target_platform=current_platform)
    before = _state()

    with pytest.raises(IntegrityError):
        push_rows_apply(rows=[row_of(current_platform), row("x.test", name="Kept")])

    assert _state() == before


# --- signing keys -------------------------------------------------------------------


def _key(private: bool = False, **fields) -> dict:
    private_key, public_key = key_pair_generate()
    key = {"public_key": public_key, "created_at": timezone.now(), "retires_at": None}
    return key | ({"private_key": private_key} if private else {}) | fields


def test_rows_carry_public_keys_and_private_ones_only_to_their_platform():
    master, one, two = (
        PlatformFactory(master=True),
        PlatformFactory(),
        PlatformFactory(),
    )
    for platform in (master, one, two):
        platform_key_issue(platform=platform)
    one.keys.update(private_key="")  # one has taken its key

    rows = {row["domain"]: row for row in push_rows(source=master, target=two)}

    assert "private_key" not in rows[one.domain]["keys"][0]
    assert "private_key" not in rows[master.domain]["keys"][0]
    assert rows[two.domain]["keys"][0]["private_key"].startswith("whsk_")


def test_a_key_its_platform_does_not_hold_yet_is_told_to_nobody_else():
    """A platform signs with it only once it has it: peers must not require it."""
    master, pending, other = (
        PlatformFactory(master=True),
        PlatformFactory(),
        PlatformFactory(),
    )
    platform_key_issue(platform=pending)

    to_other = {r["domain"]: r for r in push_rows(source=master, target=other)}
    to_pending = {r["domain"]: r for r in push_rows(source=master, target=pending)}

    assert to_other[pending.domain]["keys"] == []
    assert len(to_pending[pending.domain]["keys"]) == 1


def test_apply_stores_keys_with_only_the_receivers_own_private_keys(
    current_platform,
):
    own, peer = _key(private=True), _key(private=True)  # a peer's: not kept
    other = row("c.test", keys=[peer])

    push_rows_apply(rows=[row_of(current_platform, keys=[own]), other])

    stored = dict(PlatformKey.objects.values_list("public_key", "private_key"))
    assert stored == {own["public_key"]: own["private_key"], peer["public_key"]: ""}


def test_apply_makes_a_platforms_keys_the_listed_ones(current_platform):
    old, new = _key(), _key()
    other = row("c.test", keys=[old])
    push_rows_apply(rows=[row_of(current_platform), other])

    report = push_rows_apply(rows=[row_of(current_platform), other | {"keys": [new]}])

    assert report.updated == ["c.test"]
    platform = Platform.objects.get(domain="c.test")
    assert list(platform.keys.values_list("public_key", flat=True)) == [
        new["public_key"]
    ]


def test_own_private_key_stays_when_later_pushes_send_only_the_public_half(
    current_platform,
):
    own = _key(private=True)
    push_rows_apply(rows=[row_of(current_platform, keys=[own])])
    public_only = {k: v for k, v in own.items() if k != "private_key"}

    report = push_rows_apply(rows=[row_of(current_platform, keys=[public_only])])

    assert report.updated == []
    assert current_platform.keys.get().private_key == own["private_key"]


def test_a_push_without_keys_leaves_them_alone(current_platform):
    other = row("c.test", keys=[_key()])
    push_rows_apply(rows=[row_of(current_platform), other])

    other.pop("keys")
    push_rows_apply(rows=[row_of(current_platform), other])

    assert Platform.objects.get(domain="c.test").keys.count() == 1


def test_a_kept_platform_loses_its_keys(current_platform):
    kept = PlatformFactory(domain="kept.test")
    SyncFactory(source_platform=kept, target_platform=current_platform)
    platform_key_issue(platform=kept)

    report = push_rows_apply(rows=[row_of(current_platform)])

    assert report.kept == ["kept.test"]
    assert not kept.keys.exists()
