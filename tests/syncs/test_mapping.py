"""A sync's field mappings: what the target stores each sent field by."""

from syncs.mapping import fields_mapped
from syncs.models import Sync


def _sync(**fields) -> Sync:
    return Sync(**({"source_model": "auth.User", "target_model": "auth.User"} | fields))


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
