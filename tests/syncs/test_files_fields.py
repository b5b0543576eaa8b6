"""Which fields hold files, how files are described in events, and the policy."""

import json
import logging

import pytest

from demoapp.models import Document
from platforms.models import Platform
from syncs.files.fields import model_file_fields, record_file_fields
from syncs.files.metadata import (
    event_data_with_files,
    file_metadata_read,
    record_files_describe,
)
from syncs.files.policy import file_refusal
from syncs.models import OutboxEvent
from syncs.payload import envelope_build
from tests.factories import PlatformFactory, SyncFactory
from tests.filesync import CONTENT, document, file_sync, sha256  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("file_sync")]


class CoverOnly:
    """A resolver naming only the cover."""

    def file_fields(self, record) -> list[str]:
        return ["cover"]


class TitleAndNonsense:
    """A resolver naming a text field that holds a path, and fields that can't."""

    def file_fields(self, record) -> list[str]:
        return ["title", "updated_at", "no_such_field", "attachment"]


def _names(record) -> list[str]:
    return [field.name for field in record_file_fields(record)]


# --- fields ---------------------------------------------------------------------------


def test_file_fields_are_the_model_file_fields():
    assert model_file_fields(Document) == ["attachment", "cover"]
    assert model_file_fields(Platform) == ["thumbnail"]


def test_fields_named_like_files_come_first(settings):
    settings.FILE_SYNC_FIELD_SEARCH = ["cover"]
    assert model_file_fields(Document) == ["cover", "attachment"]


def test_the_search_words_never_make_a_text_field_a_file_field(settings):
    settings.FILE_SYNC_FIELD_SEARCH = ["title", "slug"]
    assert model_file_fields(Document) == ["attachment", "cover"]


def test_a_resolver_names_the_file_fields_instead(settings):
    settings.FILE_SYNC_RESOLVERS = {"demoapp.Document": f"{__name__}.CoverOnly"}
    assert _names(Document(slug="d")) == ["cover"]


def test_a_resolver_may_name_a_text_field_but_not_others(settings, caplog):
    settings.FILE_SYNC_RESOLVERS = {"demoapp.document": f"{__name__}.TitleAndNonsense"}
    with caplog.at_level(logging.WARNING, logger="syncs"):
        names = _names(Document(slug="d"))

    assert names == ["title", "attachment"]
    assert "updated_at" in caplog.text and "no_such_field" in caplog.text


# --- descriptions ------------------------------------------------------------------


def test_a_file_is_described_by_name_size_and_sha256():
    doc = document("d", attachment=("report.txt", CONTENT))

    (described,) = record_files_describe(doc)

    assert described.as_data() == {
        "name": "documents/report.txt",
        "size": len(CONTENT),
        "sha256": sha256(CONTENT),
    }


def test_empty_file_fields_are_not_described():
    assert record_files_describe(document("d")) == []


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("tool.exe", CONTENT, "extension_not_allowed"),
        ("huge.txt", b"x" * 65, "file_too_large"),
    ],
)
def test_a_refused_file_is_described_with_the_reason_and_not_hashed(
    name, content, code
):
    doc = document("d", attachment=(name, content))

    (described,) = record_files_describe(doc)

    assert described.refusal.code == code
    assert described.as_data() == {
        "name": f"documents/{name}",
        "size": len(content),
        "refused": code,
    }


def test_a_file_missing_from_storage_is_refused_as_unreadable():
    doc = Document.objects.create(slug="d", title="D", attachment="documents/gone.txt")

    (described,) = record_files_describe(doc)

    assert described.refusal.code == "unreadable"


def test_files_past_the_per_record_limit_are_refused(settings):
    settings.FILE_SYNC_MAX_FILES_PER_RECORD = 1
    doc = document("d", attachment=("a.txt", b"a"), cover=("c.txt", b"c"))

    first, second = record_files_describe(doc)

    assert (first.field, first.refusal) == ("attachment", None)
    assert (second.field, second.refusal.code) == ("cover", "too_many_files")


def test_event_data_carries_descriptions_only_for_the_fields_it_sends():
    doc = document("d", attachment=("a.txt", b"a"), cover=("c.txt", b"c"))

    data = event_data_with_files(record=doc, data={"title": "D", "attachment": "x"})

    assert data == {
        "title": "D",
        "attachment": {"name": "documents/a.txt", "size": 1, "sha256": sha256(b"a")},
    }


@pytest.mark.parametrize(
    ("value", "is_description"),
    [
        ({"name": "a.txt", "size": 1, "sha256": "0" * 64}, True),
        ({"name": "a.txt", "size": 1, "refused": "file_too_large"}, True),
        ({"name": "a.txt", "size": 1}, False),
        ({"name": "a.txt", "size": -1, "sha256": "0" * 64}, False),
        ({"name": "a.txt", "size": True, "sha256": "0" * 64}, False),
        ({"name": "a.txt", "size": 1, "sha256": "XYZ"}, False),
        ({"name": "a.txt", "size": 1, "sha256": "0" * 64, "more": 1}, False),
        ("documents/a.txt", False),
        (None, False),
    ],
)
def test_only_well_formed_descriptions_are_read_as_such(value, is_description):
    assert (file_metadata_read(value) is not None) is is_description


# --- policy -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "size", "code"),
    [
        ("a.TXT", 64, None),
        ("dir.png/a.txt", 1, None),
        ("a.txt", 65, "file_too_large"),
        ("a.exe", 1, "extension_not_allowed"),
        ("a", 1, "extension_not_allowed"),
        (".txt", 1, "extension_not_allowed"),
    ],
)
def test_policy_allows_listed_extensions_up_to_the_size_limit(name, size, code):
    refusal = file_refusal(name=name, size=size)
    assert (refusal.code if refusal else None) == code


# --- the envelope -------------------------------------------------------------------


@pytest.fixture
def doc_sync(current_platform):
    return SyncFactory(
        source_platform=current_platform,
        target_platform=PlatformFactory(domain="b.test"),
        source_model="demoapp.Document",
        target_model="demoapp.Document",
    )


def _event(doc_sync) -> dict:
    rows = list(OutboxEvent.objects.select_related("sync").order_by("pk"))
    body = envelope_build(
        source=doc_sync.source_platform, target=doc_sync.target_platform, rows=rows
    )
    return json.loads(body)["events"][-1]


def test_the_envelope_describes_the_files_of_a_record(doc_sync):
    document("d", attachment=("report.txt", CONTENT))

    event = _event(doc_sync)

    assert event["key"] == "d"
    assert event["data"]["title"] == "D"
    assert event["data"]["attachment"] == {
        "name": "documents/report.txt",
        "size": len(CONTENT),
        "sha256": sha256(CONTENT),
    }
    assert event["data"]["cover"] == ""


def test_with_file_sync_off_the_envelope_sends_file_names_as_django_does(
    doc_sync, settings
):
    settings.FILE_SYNC_ENABLED = False
    document("d", attachment=("report.txt", CONTENT))

    assert _event(doc_sync)["data"]["attachment"] == "documents/report.txt"
