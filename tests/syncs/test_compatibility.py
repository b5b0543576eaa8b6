import pytest

from syncs.compatibility import mappings_suggest, models_compare, sync_compatibility
from syncs.models import Sync


def model(*fields: tuple[str, str], related: dict | None = None) -> dict:
    """Describe a model as /api/models/ does, with an id primary key."""
    related = related or {}
    described = [{"name": "id", "type": "BigAutoField", "related_model": None}]
    described += [
        {"name": name, "type": kind, "related_model": related.get(name)}
        for name, kind in fields
    ]
    return {"label": "app.Model", "fields": described}


def test_same_fields_are_compatible_and_need_no_mapping():
    person = model(("name", "CharField"), ("age", "IntegerField"))
    result = models_compare(source=person, target=person, mappings={}, all_fields=True)
    assert result.ok
    assert result.warnings() == []
    assert result.suggested == {}


def test_missing_extra_and_mismatched_fields_are_reported():
    source = model(("name", "CharField"), ("born", "DateField"), ("age", "CharField"))
    target = model(
        ("name", "TextField"), ("age", "IntegerField"), ("city", "CharField")
    )
    result = models_compare(source=source, target=target, mappings={}, all_fields=True)
    assert result.missing == [("born", "born")]
    assert result.extra == ["city"]
    assert result.mismatched == [("age", "CharField", "age", "IntegerField")]
    assert result.warnings() == [
        "The source field born is missing on the target.",
        "The target field city gets no value from the source.",
        "age (CharField) is synced into age (IntegerField): the types differ.",
    ]


def test_a_relation_to_another_model_is_a_mismatch():
    source = model(("owner", "ForeignKey"), related={"owner": "auth.User"})
    target = model(("owner", "ForeignKey"), related={"owner": "auth.Group"})
    result = models_compare(source=source, target=target, mappings={}, all_fields=True)
    assert result.mismatched == [("owner", "ForeignKey", "owner", "ForeignKey")]


def test_mappings_rename_fields_before_they_are_compared():
    source = model(("title", "CharField"))
    target = model(("headline", "CharField"))
    result = models_compare(
        source=source, target=target, mappings={"title": "headline"}, all_fields=True
    )
    assert result.ok


def test_a_mapping_to_a_missing_field_is_named():
    source = model(("title", "CharField"))
    target = model(("title", "CharField"))
    result = models_compare(
        source=source, target=target, mappings={"title": "nope"}, all_fields=True
    )
    assert result.warnings()[0] == (
        "The source field title is mapped to nope, which is missing on the target."
    )


def test_without_all_fields_only_mapped_fields_are_sent():
    source = model(("name", "CharField"), ("secret", "CharField"))
    target = model(("label", "CharField"))
    result = models_compare(
        source=source, target=target, mappings={"name": "label"}, all_fields=False
    )
    assert result.ok


def test_suggestions_prefer_same_name_then_case_then_synonyms():
    suggested = mappings_suggest(
        source_fields=["name", "title", "EMail", "first_name", "zip"],
        target_fields=["name", "label", "email", "firstname", "city"],
        mappings={},
    )
    # "name" keeps its own name, so "title" takes the next synonym, "label".
    assert suggested == {"title": "label", "EMail": "email", "first_name": "firstname"}


def test_suggestions_keep_given_mappings_whose_target_exists():
    suggested = mappings_suggest(
        source_fields=["title", "body"],
        target_fields=["heading", "content"],
        mappings={"title": "heading", "body": "gone"},
    )
    assert suggested == {"title": "heading", "body": "content"}


@pytest.mark.django_db
def test_a_sync_between_local_models_is_compared(current_platform):
    sync = Sync(
        source_platform=current_platform,
        source_model="auth.User",
        target_platform=current_platform,
        target_model="auth.Group",
        field_mappings={},
        sync_all_fields=True,
    )
    result = sync_compatibility(sync=sync)
    assert ("username", "username") in result.missing
    assert ("groups", "groups") in result.missing
    assert result.extra == ["name", "permissions"]
    assert "id" not in result.extra  # primary keys never travel
