"""Named reads of syncs and of the models this platform offers for syncing."""

from dataclasses import dataclass

from django.apps import apps
from django.db import models
from django.db.models import QuerySet

from platforms.conf import sync_settings
from syncs.identity import model_identifier, model_supports_natural_key
from syncs.models import Sync

# This project's own bookkeeping is never synced through a Sync; platforms are
# the exception, the master pushes them to every platform.
BOOKKEEPING_APPS = frozenset({"platforms", "syncs", "webhooks"})
BOOKKEEPING_OFFERED = frozenset({"platforms.platform"})


@dataclass(frozen=True)
class FieldDescription:
    """One field of a syncable model, as /api/models/ shows it."""

    name: str
    type: str
    unique: bool
    null: bool
    related_model: str | None


@dataclass(frozen=True)
class ModelDescription:
    """A syncable model, as /api/models/ shows it."""

    label: str
    verbose_name: str
    fields: list[FieldDescription]
    natural_key: bool
    identifier: str | None


def sync_list(
    *,
    source_platform_id: int | None = None,
    target_platform_id: int | None = None,
    status: bool | None = None,
) -> QuerySet[Sync]:
    """Return the syncs matching every filter that is given, platforms joined."""
    filters = {
        "source_platform_id": source_platform_id,
        "target_platform_id": target_platform_id,
        "status": status,
    }
    return Sync.objects.select_related("source_platform", "target_platform").filter(
        **{name: value for name, value in filters.items() if value is not None}
    )


def _is_offered(model: type[models.Model]) -> bool:
    opts = model._meta
    excluded = {label.lower() for label in sync_settings.SYNC_MODELS_EXCLUDED}
    if opts.proxy or opts.label_lower in excluded:
        return False
    return opts.app_label not in BOOKKEEPING_APPS or (
        opts.label_lower in BOOKKEEPING_OFFERED
    )


def syncable_models() -> list[type[models.Model]]:
    """Return the installed concrete models offered for syncing, by label."""
    offered = [model for model in apps.get_models() if _is_offered(model)]
    return sorted(offered, key=lambda model: model._meta.label)


def _field_describe(field: models.Field) -> FieldDescription:
    related = field.related_model._meta.label if field.related_model else None
    return FieldDescription(
        name=field.name,
        type=field.get_internal_type(),
        unique=field.unique,
        null=field.null,
        related_model=related,
    )


def model_describe(model: type[models.Model]) -> ModelDescription:
    """Describe a model: label, fields, natural key support and identifier."""
    opts = model._meta
    fields = [*opts.concrete_fields, *opts.many_to_many]
    return ModelDescription(
        label=opts.label,
        verbose_name=str(opts.verbose_name),
        fields=[_field_describe(field) for field in fields],
        natural_key=model_supports_natural_key(model),
        identifier=model_identifier(model),
    )


def syncable_models_describe() -> list[ModelDescription]:
    """Describe every model offered for syncing."""
    return [model_describe(model) for model in syncable_models()]
