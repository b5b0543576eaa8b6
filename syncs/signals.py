"""The listener: record changes of synced source models in the outbox."""

from django.db import transaction
from django.db.models.signals import (
    m2m_changed,
    post_delete,
    post_migrate,
    post_save,
    pre_migrate,
    pre_save,
)

from platforms.selectors import platform_current_is_master
from platforms.signals import platform_relations_changed
from syncs.fill import sync_saved, sync_saving
from syncs.models import EventType, Sync
from syncs.outbox import outbox_record, outbox_record_many
from syncs.outbox_intents import (
    INTENTS_ATTRIBUTE,
    outbox_in_transaction,
    outbox_intents_settle,
    outbox_intents_write,
)
from syncs.push import syncs_push_request
from syncs.registry import (
    registry_invalidate,
    registry_pause,
    registry_resume,
    routes_for,
)


def record_saving(sender, instance, raw=False, **kwargs) -> None:
    """Write intents before an autocommit save, which commits before post_save."""
    if raw or not (routes := routes_for(sender._meta.label_lower)):
        return
    if outbox_in_transaction():
        return  # record_saved's rows commit with the change
    intents = outbox_intents_write(record=instance, routes=routes)
    setattr(instance, INTENTS_ATTRIBUTE, intents)


def record_saved(sender, instance, created, raw=False, **kwargs) -> None:
    """Record a create or update of a synced record."""
    intents = instance.__dict__.pop(INTENTS_ATTRIBUTE, None)
    if raw or not ((routes := routes_for(sender._meta.label_lower)) or intents):
        return
    event_type = EventType.CREATED if created else EventType.UPDATED
    if intents:
        outbox_intents_settle(
            record=instance, event_type=event_type, routes=routes, intents=intents
        )
    else:
        outbox_record(record=instance, event_type=event_type, routes=routes)


def record_deleted(sender, instance, **kwargs) -> None:
    """Record the deletion of a synced record (its key is still in memory)."""
    if routes := routes_for(sender._meta.label_lower):
        outbox_record(record=instance, event_type=EventType.DELETED, routes=routes)


def platforms_changed(sender, record, **kwargs) -> None:
    """Record a change of a synced record's platform relations as an update."""
    if routes := routes_for(sender._meta.label_lower):
        outbox_record(record=record, event_type=EventType.UPDATED, routes=routes)


def relations_changed(sender, instance, action, reverse, model, pk_set, **kwargs):
    """Record a many-to-many edit as an update of the synced side's records."""
    if action not in ("post_add", "post_remove", "post_clear", "pre_clear"):
        return
    if not reverse:
        if action != "pre_clear" and (routes := routes_for(instance._meta.label_lower)):
            outbox_record(record=instance, event_type=EventType.UPDATED, routes=routes)
        return
    if not (routes := routes_for(model._meta.label_lower)):
        return
    if action == "pre_clear":
        # The cleared records are gone after the clear: note them before it.
        instance._mooxsync_cleared = _reverse_pks(sender, instance, model)
        return
    if action == "post_clear":
        pk_set = getattr(instance, "_mooxsync_cleared", ())
    outbox_record_many(
        model=model, pks=pk_set or (), event_type=EventType.UPDATED, routes=routes
    )


def _reverse_pks(through, instance, model) -> list:
    """Return the pks of the ``model`` records tied to ``instance`` by ``through``."""
    # Ask the field which column is which: on a many-to-many to "self" both
    # foreign keys of the through table point at the same model.
    field = next(
        f for f in model._meta.many_to_many if f.remote_field.through is through
    )
    return list(
        through.objects.filter(
            **{field.m2m_reverse_field_name(): instance.pk}
        ).values_list(field.m2m_field_name(), flat=True)
    )


def sync_changed(sender, **kwargs) -> None:
    """Reload the listener's syncs once a sync is saved or deleted here."""
    registry_invalidate()
    transaction.on_commit(registry_invalidate)


def sync_push_ask(sender, raw=False, **kwargs) -> None:
    """On the master, push the syncs to their platforms once this change commits."""
    # Elsewhere a sync changes by a pull or a push from the master: no echo.
    if not raw and platform_current_is_master():
        transaction.on_commit(syncs_push_request, robust=True)


def listener_connect() -> None:
    """Connect the listener's receivers (called from SyncsConfig.ready)."""
    pre_save.connect(record_saving, dispatch_uid="mooxsync.record_saving")
    post_save.connect(record_saved, dispatch_uid="mooxsync.record_saved")
    post_delete.connect(record_deleted, dispatch_uid="mooxsync.record_deleted")
    m2m_changed.connect(relations_changed, dispatch_uid="mooxsync.relations_changed")
    platform_relations_changed.connect(
        platforms_changed, dispatch_uid="mooxsync.platforms_changed"
    )
    pre_migrate.connect(registry_pause, dispatch_uid="mooxsync.registry_pause")
    post_migrate.connect(registry_resume, dispatch_uid="mooxsync.registry_resume")
    post_save.connect(sync_changed, sender=Sync, dispatch_uid="mooxsync.sync_saved")
    post_delete.connect(sync_changed, sender=Sync, dispatch_uid="mooxsync.sync_deleted")
    pre_save.connect(sync_saving, sender=Sync, dispatch_uid="mooxsync.fill_saving")
    post_save.connect(sync_saved, sender=Sync, dispatch_uid="mooxsync.fill_saved")
    post_save.connect(sync_push_ask, sender=Sync, dispatch_uid="mooxsync.sync_pushed")
    post_delete.connect(sync_push_ask, sender=Sync, dispatch_uid="mooxsync.sync_gone")
