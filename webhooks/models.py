"""The receiving side's inbox and the versions applied per record."""

from django.db import connections, models, router
from django.utils.translation import gettext_lazy as _

from syncs.models import EventType


class RecordStateQuerySet(models.QuerySet):
    """Rows kept per source record: stored by upsert on their unique fields."""

    def upsert(self, rows: list, *, unique_fields: list[str], update_fields: list[str]):
        """Insert ``rows``, updating ``update_fields`` of those stored already."""
        # MySQL/MariaDB's upsert names no conflict target: the unique constraint
        # is the table's only one besides the primary key, which new rows lack.
        connection = connections[self._db or router.db_for_write(self.model)]
        named = connection.features.supports_update_conflicts_with_target
        return self.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=unique_fields if named else None,
            update_fields=update_fields,
        )


class InboxEvent(models.Model):
    """An event received from a source platform, stored before it is applied."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        APPLIED = "applied", _("applied")
        SKIPPED = "skipped", _("skipped")
        FAILED = "failed", _("failed")

    source_platform = models.ForeignKey(
        "platforms.Platform", on_delete=models.CASCADE, related_name="+"
    )
    sync = models.ForeignKey(
        "syncs.Sync", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    event_id = models.CharField(max_length=64)
    version = models.BigIntegerField()
    event_type = models.CharField(max_length=10, choices=EventType.choices)
    model_label = models.CharField(max_length=255)
    object_key = models.JSONField()
    # The record's pk on its source: how a renamed record is still recognised.
    source_pk = models.CharField(max_length=255, blank=True, default="")
    data = models.JSONField(default=dict)
    should_delete = models.BooleanField(default=False)
    platforms = models.JSONField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING
    )
    error = models.TextField(blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("inbox event")
        verbose_name_plural = _("inbox events")
        constraints = [
            models.UniqueConstraint(
                fields=["source_platform", "event_id"], name="webhooks_inbox_event_once"
            ),
        ]
        indexes = [models.Index(fields=["status", "id"], name="webhooks_inbox_queue")]

    def __str__(self) -> str:
        return f"{self.event_type} {self.model_label} {self.object_key}"


class AppliedVersion(models.Model):
    """The newest version of a record applied here, per source platform."""

    source_platform = models.ForeignKey(
        "platforms.Platform", on_delete=models.CASCADE, related_name="+"
    )
    model_label = models.CharField(max_length=255)
    key_digest = models.CharField(max_length=40)
    version = models.BigIntegerField()

    objects = RecordStateQuerySet.as_manager()

    class Meta:
        verbose_name = _("applied version")
        verbose_name_plural = _("applied versions")
        constraints = [
            models.UniqueConstraint(
                fields=["source_platform", "model_label", "key_digest"],
                name="webhooks_applied_version_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.model_label} {self.key_digest} v{self.version}"


class RecordLink(models.Model):
    """Which record here a source record was applied to, and its newest version.

    A record's key can change on its source (a username edited, a slug
    changed); its source pk does not, so the link still finds the row.
    """

    source_platform = models.ForeignKey(
        "platforms.Platform", on_delete=models.CASCADE, related_name="+"
    )
    model_label = models.CharField(max_length=255)
    source_pk = models.CharField(max_length=255)
    # Empty once the record is deleted: the link then only keeps its version.
    target_pk = models.CharField(max_length=255, blank=True)
    version = models.BigIntegerField()

    objects = RecordStateQuerySet.as_manager()

    class Meta:
        verbose_name = _("record link")
        verbose_name_plural = _("record links")
        constraints = [
            models.UniqueConstraint(
                fields=["source_platform", "model_label", "source_pk"],
                name="webhooks_record_link_once",
            ),
        ]
        indexes = [
            models.Index(
                fields=["source_platform", "model_label", "target_pk"],
                name="webhooks_record_link_target",
            )
        ]

    def __str__(self) -> str:
        return f"{self.model_label} {self.source_pk} -> {self.target_pk or '-'}"
