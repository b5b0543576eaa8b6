"""SyncJob and file descriptions: the record syncs, its files follow by transfer."""

import logging

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from demoapp.models import Document
from tests.factories import inbox_event
from tests.filesync import CONTENT, document, file_sync, sha256  # noqa: F401
from webhooks.apply import inbox_apply_batch
from webhooks.files.descriptions import file_descriptions_resolve
from webhooks.models import InboxEvent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("file_sync")]


def described(content: bytes = CONTENT, name="documents/report.txt") -> dict:
    return {"name": name, "size": len(content), "sha256": sha256(content)}


def _apply(sync, slug: str, **data) -> InboxEvent:
    event = inbox_event(
        sync,
        slug,
        version=InboxEvent.objects.count() + 1,
        data={"slug": slug, "title": slug.title(), "cover": ""} | data,
    )
    inbox_apply_batch(size=100)
    event.refresh_from_db()
    assert event.status == InboxEvent.Status.APPLIED, event.error
    return event


def test_a_new_record_syncs_with_its_file_field_empty_until_the_file_arrives(
    doc_sync,
):
    _apply(doc_sync, "doc", attachment=described())

    doc = Document.objects.get(slug="doc")
    assert (doc.title, doc.attachment.name) == ("Doc", "")


def test_a_changed_file_leaves_the_field_alone_until_finalize(doc_sync):
    document("doc", attachment=("report.txt", b"old bytes"))

    _apply(doc_sync, "doc", title="New title", attachment=described())

    doc = Document.objects.get(slug="doc")
    assert doc.title == "New title"
    assert doc.attachment.name == "documents/report.txt"  # the old file, for now


def test_the_file_the_record_holds_already_is_kept(doc_sync):
    document("doc", attachment=("mine.txt", CONTENT))

    _apply(doc_sync, "doc", attachment=described(name="documents/theirs.txt"))

    assert Document.objects.get(slug="doc").attachment.name == "documents/mine.txt"


def test_an_identical_file_stored_under_the_described_name_is_pointed_at(doc_sync):
    default_storage.save("documents/report.txt", ContentFile(CONTENT))

    _apply(doc_sync, "doc", attachment=described())

    assert Document.objects.get(slug="doc").attachment.name == "documents/report.txt"


def test_a_different_file_under_the_described_name_is_not_pointed_at(doc_sync):
    default_storage.save("documents/report.txt", ContentFile(b"other bytes"))

    _apply(doc_sync, "doc", attachment=described())

    assert Document.objects.get(slug="doc").attachment.name == ""


def test_a_file_refused_by_its_sender_leaves_the_field_and_the_rest_syncs(
    doc_sync, caplog
):
    document("doc", attachment=("report.txt", b"old bytes"))
    refused = {"name": "documents/huge.png", "size": 10**9, "refused": "file_too_large"}

    with caplog.at_level(logging.INFO, logger="webhooks"):
        _apply(doc_sync, "doc", title="Renamed", attachment=refused)

    doc = Document.objects.get(slug="doc")
    assert (doc.title, doc.attachment.name) == ("Renamed", "documents/report.txt")
    assert "file_too_large" in caplog.text


def test_an_emptied_file_field_is_emptied_here_too(doc_sync):
    document("doc", attachment=("report.txt", CONTENT))

    _apply(doc_sync, "doc", attachment="")

    assert Document.objects.get(slug="doc").attachment.name == ""


def test_resolving_reads_the_field_afresh_so_a_finalize_just_done_is_kept():
    doc = document("doc")
    stale = Document.objects.get(pk=doc.pk)
    Document.objects.filter(pk=doc.pk).update(attachment="documents/new.txt")

    with transaction.atomic():
        data = file_descriptions_resolve(
            model=Document, record=stale, data={"attachment": described()}
        )

    assert data == {"attachment": "documents/new.txt"}


def test_values_that_are_not_file_descriptions_pass_untouched():
    data = {"title": "x", "attachment": "documents/a.txt", "cover": {"name": 1}}
    assert file_descriptions_resolve(model=Document, record=None, data=data) == data
