"""Record links: the row here that each source record (by its source pk) became.

A key can change on the source (a username edited, a slug changed); the
source pk does not. Events that carry it find their row through the link, so a
rename updates that row instead of creating a second one.
"""

from webhooks.models import InboxEvent, RecordLink

LinkSlot = tuple[int, str, str]  # source platform id, model label, source pk
Links = dict[LinkSlot, RecordLink]


def link_slot(event: InboxEvent) -> LinkSlot:
    return (event.source_platform_id, event.model_label, event.source_pk)


def links_of(events: list[InboxEvent]) -> Links:
    """Return the links of the source records the events are for."""
    linked = [event for event in events if event.source_pk]
    if not linked:
        return {}
    found = RecordLink.objects.filter(
        source_platform_id__in={event.source_platform_id for event in linked},
        model_label__in={event.model_label for event in linked},
        source_pk__in={event.source_pk for event in linked},
    )
    return {(k.source_platform_id, k.model_label, k.source_pk): k for k in found}


def link_record(links: Links, event: InboxEvent, model):
    """Return the row the event's source record was applied to, if it still exists."""
    link = links.get(link_slot(event))
    if link is None or not link.target_pk:
        return None
    return model._default_manager.filter(pk=link.target_pk).first()


def link_owner_other(links: Links, event: InboxEvent, target_pk: str) -> str | None:
    """Return the source pk of another source record linked to ``target_pk``."""
    platform, label, source_pk = link_slot(event)
    stored = RecordLink.objects.filter(
        source_platform_id=platform, model_label=label, target_pk=target_pk
    ).values_list("source_pk", flat=True)
    batch = [
        slot[2]
        for slot, link in links.items()
        if slot[:2] == (platform, label) and link.target_pk == target_pk
    ]
    for other in sorted({*stored, *batch} - {source_pk}):
        link = links.get((platform, label, other))
        if link is None or link.target_pk == target_pk:  # the batch's is newer
            return other
    return None


def link_set(links: Links, event: InboxEvent, target_pk: str) -> None:
    """Link the event's source record to ``target_pk`` at the event's version."""
    slot = link_slot(event)
    links[slot] = RecordLink(
        source_platform_id=slot[0],
        model_label=slot[1],
        source_pk=slot[2],
        target_pk=target_pk,
        version=event.version,
    )


def links_save(links: Links) -> None:
    """Store the links the batch set (as _versions_save stores versions)."""
    RecordLink.objects.upsert(
        [link for link in links.values() if link.pk is None],
        unique_fields=["source_platform", "model_label", "source_pk"],
        update_fields=["target_pk", "version"],
    )
