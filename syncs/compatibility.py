"""Compare the fields of a sync's source and target models; suggest a mapping.

Models are compared as /api/models/ describes them (see ``syncs.catalog``), so
a model on another platform is compared the same way as one installed here.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from syncs.catalog import CatalogUnavailable, model_find, platform_models
from syncs.models import Sync

# Primary keys never travel: records are matched by their natural key.
PRIMARY_KEY_TYPES = frozenset({"AutoField", "BigAutoField", "SmallAutoField"})
# Field types that hold the same values, so a rename between them is safe.
COMPATIBLE_TYPES = [
    {"CharField", "TextField", "SlugField", "EmailField", "URLField"},
    {
        "IntegerField",
        "BigIntegerField",
        "SmallIntegerField",
        "PositiveIntegerField",
        "PositiveBigIntegerField",
        "PositiveSmallIntegerField",
    },
    {"FileField", "ImageField", "FilePathField"},
    {"DecimalField", "FloatField"},
]
# Names that usually mean the same thing; each set is one meaning.
SYNONYMS = [
    {"name", "title", "label"},
    {"email", "email_address", "mail"},
    {"first_name", "firstname", "given_name", "forename"},
    {"last_name", "lastname", "surname", "family_name"},
    {"body", "content", "text", "description"},
    {"is_active", "active", "enabled", "status"},
    {"created_at", "created", "created_on", "date_created", "date_joined"},
    {"updated_at", "updated", "modified", "modified_at", "updated_on"},
    {"phone", "phone_number", "telephone", "tel"},
    {"image", "picture", "photo", "avatar"},
]


@dataclass
class Compatibility:
    """What a sync would lose or mistype between its two models."""

    missing: list[tuple[str, str]] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    mismatched: list[tuple[str, str, str, str]] = field(default_factory=list)
    suggested: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.mismatched)

    def warnings(self) -> list[str]:
        """Return one readable warning per problem, missing fields first."""
        found = [_missing_text(source, target) for source, target in self.missing]
        found += [
            _("The target field %(field)s gets no value from the source.")
            % {"field": name}
            for name in self.extra
        ]
        found += [
            _(
                "%(source)s (%(source_type)s) is synced into %(target)s "
                "(%(target_type)s): the types differ."
            )
            % {
                "source": source,
                "source_type": source_type,
                "target": target,
                "target_type": target_type,
            }
            for source, source_type, target, target_type in self.mismatched
        ]
        return found


def _missing_text(source: str, target: str) -> str:
    if source == target:
        return _("The source field %(field)s is missing on the target.") % {
            "field": source
        }
    return _(
        "The source field %(source)s is mapped to %(target)s, which is missing "
        "on the target."
    ) % {"source": source, "target": target}


def _fields(model: dict) -> dict[str, dict]:
    return {
        f["name"]: f
        for f in model.get("fields", [])
        if f.get("type") not in PRIMARY_KEY_TYPES
    }


def _types_match(source: dict, target: dict) -> bool:
    if source.get("related_model") != target.get("related_model"):
        return False
    types = {source.get("type"), target.get("type")}
    return len(types) == 1 or any(types <= group for group in COMPATIBLE_TYPES)


def models_compare(
    *, source: dict, target: dict, mappings: dict[str, str], all_fields: bool
) -> Compatibility:
    """Compare what ``source`` sends (under ``mappings``) with ``target``'s fields.

    With ``all_fields`` every source field is sent, renamed where mapped;
    without it only the mapped fields are.
    """
    source_fields, target_fields = _fields(source), _fields(target)
    sent = {
        name: mappings.get(name, name)
        for name in source_fields
        if all_fields or name in mappings
    }
    result = Compatibility()
    for name, target_name in sent.items():
        target_field = target_fields.get(target_name)
        if target_field is None:
            result.missing.append((name, target_name))
        elif not _types_match(source_fields[name], target_field):
            result.mismatched.append(
                (
                    name,
                    source_fields[name]["type"],
                    target_name,
                    target_field["type"],
                )
            )
    received = set(sent.values())
    result.extra = [name for name in target_fields if name not in received]
    result.suggested = mappings_suggest(
        source_fields=list(source_fields),
        target_fields=list(target_fields),
        mappings=mappings,
    )
    return result


def _normal(name: str) -> str:
    return name.replace("_", "").replace("-", "").lower()


def _synonyms_of(name: str) -> set[str]:
    lowered = name.lower()
    return next((group for group in SYNONYMS if lowered in group), set())


MATCHERS = [
    lambda source, target: source == target,
    lambda source, target: source.lower() == target.lower(),
    lambda source, target: _normal(source) == _normal(target),
    lambda source, target: target.lower() in _synonyms_of(source),
]


def mappings_suggest(
    *, source_fields: list[str], target_fields: list[str], mappings: dict[str, str]
) -> dict[str, str]:
    """Suggest source -> target names: same name, then case, then synonyms.

    Keep the given mappings whose target exists. Each target field is taken
    once, by the closest match first. List only the renames, since a field of
    the same name is synced without a mapping.
    """
    paired = {s: t for s, t in mappings.items() if t in target_fields}
    free = [t for t in target_fields if t not in paired.values()]
    for matches in MATCHERS:
        for name in [s for s in source_fields if s not in paired]:
            partner = next((t for t in free if matches(name, t)), None)
            if partner is not None:
                paired[name] = partner
                free.remove(partner)
    return {s: t for s, t in paired.items() if s != t or s in mappings}


def _model_of(platform, label: str, catalogs: dict) -> dict:
    if platform.pk not in catalogs:
        catalogs[platform.pk] = platform_models(platform=platform)
    model = model_find(catalogs[platform.pk], label)
    if model is None:
        raise CatalogUnavailable(
            _("The platform %(platform)s offers no model %(label)s.")
            % {"platform": platform, "label": label}
        )
    return model


def sync_compatibility(*, sync: Sync) -> Compatibility:
    """Compare a (possibly unsaved) sync's models as their platforms describe them.

    Raise CatalogUnavailable when a platform cannot be asked or does not offer
    the model.
    """
    catalogs: dict[int, list[dict]] = {}
    return models_compare(
        source=_model_of(sync.source_platform, sync.source_model, catalogs),
        target=_model_of(sync.target_platform, sync.target_model, catalogs),
        mappings=sync.field_mappings or {},
        all_fields=sync.sync_all_fields,
    )
