"""The source's side of a backup: which records a sync covers, compared how.

A sync covers the records of its source model (only those related to the
target platform with platform relations, only ``sync_ids`` when given),
compared on the fields the target stores: the source's data, by its
transformer if the sync uses one, renamed by the sync's field mappings, and
the record's platforms where the sync's events carry them.
"""

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import CharField, Exists, OuterRef
from django.db.models.functions import Cast

from platforms.models import PlatformRelation
from syncs.bindings import transformer_for
from syncs.digest.records import (
    PLATFORMS_FIELD,
    digest_queryset,
    fields_comparable,
    model_field_names,
    records_data,
    records_platforms,
)
from syncs.digest.scan import DigestScope
from syncs.mapping import field_names_mapped, fields_mapped
from syncs.models import Sync
from syncs.payload import platforms_sent


def _transformer(sync: Sync):
    return transformer_for(sync.source_model) if sync.use_transformer_class else None


def source_queryset(sync: Sync) -> models.QuerySet:
    """Return the source records the sync sends to its target."""
    model = apps.get_model(sync.source_model)
    queryset = digest_queryset(model)
    if not sync.use_platform_relations:
        return queryset
    # Records not related to the target travel as deletes: the target must
    # not hold them.
    related = PlatformRelation.objects.filter(
        content_type=ContentType.objects.get_for_model(model, for_concrete_model=True),
        platform_id=sync.target_platform_id,
        object_id=Cast(OuterRef("pk"), CharField()),
    )
    return queryset.filter(Exists(related))


def source_fields(sync: Sync) -> list[str]:
    """Return the target names of the fields to compare, before the target's say.

    With a transformer, its output for one record names the fields (a
    transformer returns the same fields for every record).
    """
    model = apps.get_model(sync.source_model)
    names = model_field_names(model)
    transformer = _transformer(sync)
    if transformer and (first := source_queryset(sync).first()) is not None:
        names = list(transformer.transform(first))
    names = field_names_mapped(sync, fields_comparable(model, names))
    if platforms_sent(sync):
        names.append(PLATFORMS_FIELD)
    return sorted(names)


def _source_names(sync: Sync, model, fields: list[str]) -> list[str]:
    """Return the source fields whose target names are among ``fields``."""
    wanted = set(fields)
    return [
        name
        for name in model_field_names(model)
        if wanted.intersection(field_names_mapped(sync, [name]))
    ]


def source_scope(sync: Sync, *, identifier: str, fields: list[str]) -> DigestScope:
    """Return the digest scope of the sync's source records, compared on ``fields``."""
    model = apps.get_model(sync.source_model)
    transformer = _transformer(sync)
    read = _source_names(sync, model, fields)
    # Most syncs keep every field's name: then renaming, which would run for
    # every record, is skipped.
    renamed = bool(transformer) or any(
        field_names_mapped(sync, [name]) != [name] for name in read
    )

    def data(records: list[models.Model]) -> list[dict]:
        if transformer:
            raw = [dict(transformer.transform(record)) for record in records]
        else:
            raw = records_data(records, fields=read)
        if renamed:
            mapped = (fields_mapped(sync, item) for item in raw)
            raw = [
                {name: item[name] for name in fields if name in item} for item in mapped
            ]
        if PLATFORMS_FIELD in fields:
            for item, domains in zip(raw, records_platforms(records), strict=True):
                item[PLATFORMS_FIELD] = domains
        return raw

    sync_ids = frozenset(str(pk) for pk in sync.sync_ids)
    return DigestScope(
        source_queryset(sync),
        identifier,
        data,
        keep=(lambda record: str(record.pk) in sync_ids) if sync_ids else None,
    )
