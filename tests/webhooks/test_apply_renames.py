"""SyncJob: a record whose key changed on its source stays one record here.

Events carry the source record's pk (``source_pk``); the target links it to
the row it became, so a new username or slug renames that row.
"""

import json

import pytest
from django.contrib.auth.models import Group, User

from demoapp.models import Document
from syncs.models import OutboxEvent, Sync
from syncs.payload import envelope_build
from tests.factories import (
    PlatformFactory,
    SyncFactory,
    UserFactory,
    inbox_event,
    outbox_event,
)
from tests.webhooks.signed import envelope, user_data, user_event, webhook_post
from webhooks.apply import inbox_apply_batch
from webhooks.models import AppliedVersion, InboxEvent, RecordLink

pytestmark = pytest.mark.django_db


def _user(sync: Sync, name: str, *, pk: str, version: int, **fields) -> InboxEvent:
    """Store an event for the source's user ``pk``, now named ``name``."""
    return inbox_event(
        sync,
        [name],
        version=version,
        source_pk=pk,
        data=user_data(name, **fields),
    )


def _apply() -> int:
    return inbox_apply_batch(size=100)


def _status(event: InboxEvent) -> tuple[str, str]:
    event.refresh_from_db()
    return event.status, event.error


def _usernames() -> list[str]:
    return sorted(User.objects.values_list("username", flat=True))


@pytest.fixture
def password_sync(user_sync):
    """The user sync, writing the password (a privileged field) as well."""
    user_sync.field_mappings = {"password": "password"}
    user_sync.save()
    return user_sync


# --- a rename is a change of the same record ------------------------------------------


def test_renamed_user_keeps_its_row_password_hash_and_groups(password_sync):
    Group.objects.create(name="editors")
    _user(password_sync, "x_old", pk="7", version=1, groups=[["editors"]])
    _apply()
    before = User.objects.get(username="x_old")

    renamed = user_data("x_new", groups=[["editors"]]) | {"password": before.password}
    event = inbox_event(
        password_sync, ["x_new"], version=2, source_pk="7", data=renamed
    )
    _apply()

    assert _status(event) == ("applied", "")
    after = User.objects.get()
    assert (after.pk, after.username) == (before.pk, "x_new")
    assert after.password == before.password
    assert after.check_password("original-pass")
    assert list(after.groups.values_list("name", flat=True)) == ["editors"]
    link = RecordLink.objects.get()
    assert (link.source_pk, link.target_pk, link.version) == ("7", str(after.pk), 2)


def test_renamed_document_keeps_its_row(doc_sync):
    inbox_event(
        doc_sync,
        "draft",
        version=1,
        source_pk="3",
        data={"slug": "draft", "title": "Draft"},
    )
    _apply()
    before = Document.objects.get()

    data = {"slug": "final", "title": "Final"}
    event = inbox_event(doc_sync, "final", version=2, source_pk="3", data=data)
    _apply()

    assert _status(event) == ("applied", "")
    after = Document.objects.get()
    assert (after.pk, after.slug, after.title) == (before.pk, "final", "Final")


def test_create_and_rename_in_one_batch_make_one_record(user_sync):
    _user(user_sync, "x_old", pk="7", version=1)
    _user(user_sync, "x_new", pk="7", version=2)

    assert _apply() == 2

    assert _usernames() == ["x_new"]


def test_delete_after_a_rename_deletes_the_renamed_row(user_sync):
    _user(user_sync, "x_old", pk="7", version=1)
    _apply()
    UserFactory(username="x_new")  # the target's own user, not the source's

    gone = inbox_event(
        user_sync, ["x_new"], version=2, source_pk="7", event_type="deleted"
    )
    _apply()

    assert _status(gone) == ("applied", "")
    assert _usernames() == ["x_new"]
    assert RecordLink.objects.get().target_pk == ""


# --- what a rename may not do ---------------------------------------------------------


def test_rename_onto_a_key_another_record_holds_fails_and_changes_nothing(user_sync):
    _user(user_sync, "x_old", pk="7", version=1, first_name="Old")
    _apply()
    taken = UserFactory(username="x_new", first_name="Mine")

    event = _user(user_sync, "x_new", pk="7", version=2, first_name="Changed")
    _apply()

    status, error = _status(event)
    assert status == "failed"
    assert "another record here holds that key already" in error
    assert "x_new" in error
    assert _usernames() == ["x_new", "x_old"]
    assert User.objects.get(username="x_old").first_name == "Old"
    taken.refresh_from_db()
    assert taken.first_name == "Mine"
    assert RecordLink.objects.get().version == 1
    user_sync.refresh_from_db()
    assert user_sync.has_errors


def test_key_of_a_record_linked_to_another_source_record_is_refused(user_sync):
    _user(user_sync, "x_old", pk="7", version=1, first_name="Seven")
    _apply()

    event = _user(user_sync, "x_old", pk="8", version=2, first_name="Eight")
    _apply()

    status, error = _status(event)
    assert status == "failed"
    assert "belongs to another source record" in error
    assert User.objects.get().first_name == "Seven"
    assert list(RecordLink.objects.values_list("source_pk", flat=True)) == ["7"]


def test_rename_then_a_create_reusing_the_old_key_ends_with_both_records(
    password_sync,
):
    _user(password_sync, "x_old", pk="7", version=1, password="sevens-pass")
    _apply()
    seven = User.objects.get()

    _user(password_sync, "x_new", pk="7", version=2, password="sevens-pass")
    _user(password_sync, "x_old", pk="8", version=3, password="eights-pass")
    _apply()

    assert _usernames() == ["x_new", "x_old"]
    assert User.objects.get(username="x_new").pk == seven.pk
    assert User.objects.get(username="x_new").check_password("sevens-pass")
    assert User.objects.get(username="x_old").check_password("eights-pass")
    links = dict(RecordLink.objects.values_list("source_pk", "target_pk"))
    assert links == {
        "7": str(seven.pk),
        "8": str(User.objects.get(username="x_old").pk),
    }


# --- versions follow the source record, not its key -----------------------------------


def test_rename_delivered_before_an_older_change_converges(user_sync):
    _user(user_sync, "x_old", pk="7", version=5, first_name="Five")
    _apply()

    newer = _user(user_sync, "x_new", pk="7", version=12, first_name="Twelve")
    _apply()
    older = _user(user_sync, "x_old", pk="7", version=10, first_name="Ten")
    _apply()

    assert _status(newer) == ("applied", "")
    assert _status(older) == ("skipped", "stale version")
    user = User.objects.get()
    assert (user.username, user.first_name) == ("x_new", "Twelve")
    assert RecordLink.objects.get().version == 12


def test_reordered_events_in_one_batch_converge(user_sync):
    _user(user_sync, "x_old", pk="7", version=5, first_name="Five")
    _apply()
    _user(user_sync, "x_old", pk="7", version=10, first_name="Ten")
    _user(user_sync, "x_new", pk="7", version=12, first_name="Twelve")

    _apply()

    user = User.objects.get()
    assert (user.username, user.first_name) == ("x_new", "Twelve")


def test_events_without_source_pk_still_match_by_key(user_sync):
    alice = UserFactory(username="alice", first_name="Old")

    inbox_event(user_sync, ["alice"], version=3, data={"first_name": "New"})
    _apply()
    stale = inbox_event(user_sync, ["alice"], version=2, data={"first_name": "Stale"})
    _apply()

    alice.refresh_from_db()
    assert alice.first_name == "New"
    assert _status(stale) == ("skipped", "stale version")
    assert AppliedVersion.objects.get().version == 3
    assert not RecordLink.objects.exists()


def test_record_applied_before_links_is_linked_by_its_key(user_sync):
    """A record an older sender created is found by key once, then by link."""
    alice = UserFactory(username="alice")
    inbox_event(user_sync, ["alice"], version=3, data={"first_name": "Old sender"})
    _apply()

    _user(user_sync, "alice", pk="7", version=4)
    _apply()
    _user(user_sync, "alicia", pk="7", version=5, first_name="Renamed")
    _apply()

    user = User.objects.get()
    assert (user.pk, user.username, user.first_name) == (alice.pk, "alicia", "Renamed")


def test_links_of_another_source_are_their_own(user_sync, current_platform):
    other = SyncFactory(
        source_platform=PlatformFactory(domain="c.test"),
        target_platform=current_platform,
    )
    _user(other, "x_old", pk="7", version=100)
    _apply()

    _user(user_sync, "x_new", pk="7", version=1)
    _apply()

    assert _usernames() == ["x_new", "x_old"]


# --- the wire: the sender sends it, the webhook stores it -----------------------------


def test_webhook_stores_the_source_pk(client, source, user_sync):
    body = envelope(source.domain, [user_event("alice", source_pk="42")])

    response = webhook_post(client, body, sender=source)

    assert response.status_code == 202
    assert InboxEvent.objects.get().source_pk == "42"


def test_webhook_accepts_an_event_without_source_pk(client, source, user_sync):
    response = webhook_post(
        client, envelope(source.domain, [user_event("alice")]), sender=source
    )

    assert response.status_code == 202
    assert InboxEvent.objects.get().source_pk == ""


@pytest.mark.parametrize("value", [42, None, ["42"], "x" * 256])
def test_webhook_refuses_a_source_pk_that_is_no_short_string(
    client, source, user_sync, value
):
    body = envelope(source.domain, [user_event("alice", source_pk=value)])

    response = webhook_post(client, body, sender=source)

    assert response.status_code == 400
    assert "source_pk" in response.json()["detail"]
    assert not InboxEvent.objects.exists()


def _row(sync: Sync, user: User, **fields) -> OutboxEvent:
    return outbox_event(sync, [user.username], object_pk=str(user.pk), **fields)


def test_sender_sends_a_renamed_record_once_with_its_current_key(
    source, current_platform
):
    sync = SyncFactory(source_platform=source, target_platform=current_platform)
    carol = UserFactory(username="carol")
    first = _row(sync, carol, event_type="created")
    carol.username = "caroline"
    carol.save()
    second = _row(sync, carol)

    body = envelope_build(source=source, target=current_platform, rows=[first, second])

    (event,) = json.loads(body)["events"]
    assert event["key"] == ["caroline"]
    assert event["source_pk"] == str(carol.pk)
    assert event["version"] == second.version


def test_rename_built_by_a_sender_is_applied_to_the_same_row(
    client, source, current_platform, password_sync
):
    """Sender and receiver agree on the wire: create, then rename, then apply."""
    carol = UserFactory(username="carol", password="carols-pass")
    created = envelope_build(
        source=source,
        target=current_platform,
        rows=[_row(password_sync, carol, event_type="created")],
    )
    carol.username = "caroline"
    carol.save()
    renamed = envelope_build(
        source=source, target=current_platform, rows=[_row(password_sync, carol)]
    )
    carol.delete()  # this platform has not got her yet

    webhook_post(client, created, sender=source)
    _apply()
    first = User.objects.get(username="carol")
    webhook_post(client, renamed, sender=source)
    _apply()

    (user,) = User.objects.all()
    assert (user.pk, user.username) == (first.pk, "caroline")
    assert user.check_password("carols-pass")
