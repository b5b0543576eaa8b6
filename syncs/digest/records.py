"""What a digest compares of a record: its fields as the wire carries them.

records_data writes what syncs.identity.records_serialize (Django's python
serializer, with natural keys) writes for an event, field by field with the
serializer's own rules, and two differences: many-to-many values are loaded in
bulk per chunk of records (the serializer costs a query per record and field)
and sorted, since their order differs between platforms. Events use it too,
keeping the serializer's order of many-to-many values. It skips the
serializer's machinery around the fields, which took most of a digest's time:
digests serialize every record of a table, on both sides.

Where a sync's events carry their record's platform relations, a digest
compares them too, as the pseudo-field PLATFORMS_FIELD: the sorted domains
of the platforms the record belongs to.
"""

from collections.abc import Collection

from django.db import models
from django.utils.encoding import is_protected_type

from platforms.conf import sync_settings
from platforms.selectors import platform_domains_of
from syncs.digest.hashing import canonical_json
from syncs.identity import NATURAL_KEY

# Compared like a field; "@" keeps it apart from every field's name.
PLATFORMS_FIELD = "@platforms"


def _has_natural_key(model: type[models.Model]) -> bool:
    return hasattr(model, "natural_key")  # what the serializer asks, too


def _m2m_bulk_loadable(field) -> bool:
    return field.serialize and field.remote_field.through._meta.auto_created


def model_field_names(model: type[models.Model]) -> list[str]:
    """Return the names of the fields records_serialize writes for ``model``."""
    opts = model._meta.concrete_model._meta
    names = [f.name for f in opts.local_fields if f.serialize]
    return names + [f.name for f in opts.local_many_to_many if _m2m_bulk_loadable(f)]


def field_compares(field: models.Field) -> bool:
    """Tell whether a field's value on the target can equal the source's.

    auto_now and auto_now_add fields are stamped by the target's own save() (on
    every save, or on the first), whatever was sent. With file sync on, a file
    field holds the name the target's transfer gave the file, and file sync
    compares the files themselves by size and sha256.
    """
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return False
    return not (sync_settings.FILE_SYNC_ENABLED and isinstance(field, models.FileField))


def fields_comparable(model: type[models.Model], names: Collection[str]) -> list[str]:
    """Return ``names`` without the fields of ``model`` that never compare equal."""
    fields = {f.name: f for f in model._meta.get_fields() if f.concrete}
    return [
        name for name in names if name not in fields or field_compares(fields[name])
    ]


def records_platforms(records: list[models.Model]) -> list[list[str]]:
    """Return the sorted domains each record belongs to (PLATFORMS_FIELD)."""
    if not records:
        return []
    domains = platform_domains_of(type(records[0]), [r.pk for r in records])
    return [domains.get(str(record.pk), []) for record in records]


def digest_queryset(model: type[models.Model]) -> models.QuerySet:
    """Return every record of ``model`` with the relations its natural keys read.

    In pk order, so that a chunk of it is a run of pks.
    """
    return _natural_key_relations(model._default_manager.order_by("pk"))


def _natural_key_relations(queryset: models.QuerySet) -> models.QuerySet:
    """Return ``queryset`` joining the relations its records' natural keys read."""
    model = queryset.model
    related = [
        f.name
        for f in model._meta.concrete_model._meta.local_fields
        if f.serialize and f.remote_field and _has_natural_key(f.remote_field.model)
    ]
    # select_related() without names would follow every foreign key.
    return queryset.select_related(*related) if related else queryset


def key_queryset(queryset: models.QuerySet, identifier: str) -> models.QuerySet:
    """Return ``queryset`` loading only the fields its records' keys are read from.

    A natural key's fields are found by asking one record loaded without them
    for its natural key and looking at what it had to load. A natural key
    that follows a relation keeps the whole queryset. Either way the keys are
    right: a field still missing is loaded when read, only more slowly.
    """
    bare = queryset.select_related(None)
    if identifier != NATURAL_KEY:
        return bare.only(identifier)
    probe = bare.only("pk").first()
    if probe is None:
        return queryset
    deferred = probe.get_deferred_fields()
    probe.natural_key()
    read = deferred - probe.get_deferred_fields()
    fields = {f.attname: f for f in queryset.model._meta.concrete_fields}
    if any(fields[attname].is_relation for attname in read if attname in fields):
        return queryset
    return bare.only(*read) if read else bare.only("pk")


def _serializer_ordered(model: type[models.Model]) -> models.QuerySet:
    """Return the records of ``model`` in its default manager's order, else by pk."""
    queryset = _natural_key_relations(model._default_manager.all())
    return queryset if queryset.ordered else queryset.order_by("pk")


def _m2m_values(field, pks: list, *, sort: bool, run: bool) -> dict:
    """Return each record's many-to-many values of ``field``.

    Sorted, or else in the order the serializer reads them: the related
    model's default ordering, by pk without one.
    """
    through = field.remote_field.through._meta
    own = through.get_field(field.m2m_field_name()).attname
    other = through.get_field(field.m2m_reverse_field_name()).attname
    # A run by range, not by list: a list of a chunk's pks costs more to build
    # into a query than the query takes. Chunks are runs (see digest_queryset).
    wanted = set(pks)
    lookup = (
        {f"{own}__gte": min(pks), f"{own}__lte": max(pks)}
        if run
        else {f"{own}__in": wanted}
    )
    linked = field.remote_field.through._base_manager.filter(**lookup)
    links = [link for link in linked.values_list(own, other) if link[0] in wanted]
    if not links:
        return {}
    # The serializer reads them through the related model's default manager.
    model = field.remote_field.model
    related = (digest_queryset(model) if sort else _serializer_ordered(model)).filter(
        pk__in={other_id for _, other_id in links}
    )
    if _has_natural_key(model):
        values = {record.pk: record.natural_key() for record in related}
    else:
        values = {
            pk: pk if is_protected_type(pk) else str(pk)
            for pk in related.values_list("pk", flat=True)
        }
    if not sort:
        place = {pk: at for at, pk in enumerate(values)}
        links.sort(key=lambda link: place.get(link[1], -1))
    found: dict = {}
    for own_id, other_id in links:
        if other_id in values:
            found.setdefault(own_id, []).append(values[other_id])
    if sort:
        for items in found.values():
            items.sort(key=canonical_json)
    return found


def _plain_value(record: models.Model, field: models.Field):
    # The python serializer's _value_from_field.
    value = field.value_from_object(record)
    return value if is_protected_type(value) else field.value_to_string(record)


def _foreign_value(record: models.Model, field: models.Field):
    # The python serializer's handle_fk_field, with natural foreign keys.
    if not _has_natural_key(field.remote_field.model):
        return _plain_value(record, field)
    related = getattr(record, field.name)
    return related.natural_key() if related else None


def _field_plan(model: type[models.Model], selected: set[str] | None) -> list:
    """Return (name, reader, field) for each field the serializer would write."""
    return [
        (field.name, _foreign_value if field.remote_field else _plain_value, field)
        for field in model._meta.concrete_model._meta.local_fields
        if field.serialize and (selected is None or field.name in selected)
    ]


def records_data(
    records: list[models.Model],
    *,
    fields: Collection[str] | None = None,
    m2m_sorted: bool = True,
    pks_run: bool = True,
) -> list[dict]:
    """Return each record's fields as records_serialize does, m2m sorted.

    ``fields`` restricts the result to those field names (and adds
    PLATFORMS_FIELD when it is among them). With ``m2m_sorted`` false,
    many-to-many values keep the serializer's order. ``pks_run`` tells that
    the records are a run of pks (a digest's chunk), not any set of records.
    """
    if not records:
        return []
    model = type(records[0])
    selected = None if fields is None else set(fields)
    pks = [record.pk for record in records]
    m2m = {
        field.name: _m2m_values(field, pks, sort=m2m_sorted, run=pks_run)
        for field in model._meta.concrete_model._meta.local_many_to_many
        if _m2m_bulk_loadable(field) and (selected is None or field.name in selected)
    }
    plan = _field_plan(model, selected)
    data = [
        {name: read(record, field) for name, read, field in plan}
        | {name: values.get(record.pk, []) for name, values in m2m.items()}
        for record in records
    ]
    if selected and PLATFORMS_FIELD in selected:
        for fields, domains in zip(data, records_platforms(records), strict=True):
            fields[PLATFORMS_FIELD] = domains
    return data
