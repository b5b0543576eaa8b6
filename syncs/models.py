"""Syncs: one-way rules "source platform + model -> target platform + model"."""

import re
import uuid

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from syncs.event_ids import event_id_new, event_version_new

MODEL_LABEL_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$")


def model_label_validate(label: str) -> None:
    """Refuse a model label that is not of the form ``app_label.ModelName``."""
    if not MODEL_LABEL_RE.match(label or ""):
        raise ValidationError(
            _("Enter a model label of the form app_label.ModelName."), code="label"
        )


def sync_ids_validate(value) -> None:
    """Refuse sync_ids that are not a list of ids (numbers or strings)."""
    if not isinstance(value, list) or not all(
        isinstance(item, str | int) and not isinstance(item, bool) for item in value
    ):
        raise ValidationError(
            _("Enter a JSON list of record ids, e.g. [1, 2, 3]."), code="sync_ids"
        )


def field_mappings_validate(value) -> None:
    """Refuse field mappings that are not an object of field name -> field name."""
    if not isinstance(value, dict) or not all(
        isinstance(key, str) and isinstance(target, str) and key and target
        for key, target in value.items()
    ):
        raise ValidationError(
            _('Enter a JSON object of source field -> target field, e.g. {"a": "b"}.'),
            code="field_mappings",
        )


class Sync(models.Model):
    """Keep records of a source model on one platform in a target model on another."""

    class IfExists(models.TextChoices):
        UPDATE = "update", _("update the existing record")
        SKIP = "skip", _("skip the record")
        ERROR = "error", _("report an error")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.BooleanField(_("active"), default=True)
    title = models.CharField(_("title"), max_length=255, blank=True)
    source_platform = models.ForeignKey(
        "platforms.Platform",
        on_delete=models.PROTECT,
        related_name="syncs_as_source",
        verbose_name=_("source platform"),
    )
    source_model = models.CharField(
        _("source model"), max_length=255, validators=[model_label_validate]
    )
    target_platform = models.ForeignKey(
        "platforms.Platform",
        on_delete=models.PROTECT,
        related_name="syncs_as_target",
        verbose_name=_("target platform"),
    )
    target_model = models.CharField(
        _("target model"), max_length=255, validators=[model_label_validate]
    )
    use_platform_relations = models.BooleanField(
        _("use platform relations"),
        default=False,
        help_text=_("Sync only records related to the target platform."),
    )
    if_exists = models.CharField(
        _("if the record exists"),
        max_length=10,
        choices=IfExists.choices,
        default=IfExists.UPDATE,
    )
    sync_ids = models.JSONField(
        _("sync only these ids"),
        default=list,
        blank=True,
        validators=[sync_ids_validate],
        help_text=_("JSON list of source record ids; empty syncs every record."),
    )
    sync_all_fields = models.BooleanField(_("sync all fields"), default=True)
    field_mappings = models.JSONField(
        _("field mappings"),
        default=dict,
        blank=True,
        validators=[field_mappings_validate],
        help_text=_("JSON object of source field -> target field."),
    )
    use_transformer_class = models.BooleanField(
        _("use transformer class"), default=False
    )
    has_errors = models.BooleanField(_("has errors"), default=False)
    error_message = models.TextField(_("error message"), blank=True)
    interval = models.PositiveIntegerField(
        _("interval (minutes)"), default=60, help_text=_("Minutes between backups.")
    )
    last_sync = models.DateTimeField(_("last sync"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["title", "pk"]
        verbose_name = _("sync")
        verbose_name_plural = _("syncs")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(if_exists__in=["update", "skip", "error"]),
                name="syncs_sync_if_exists_valid",
            ),
            models.CheckConstraint(
                condition=~(
                    models.Q(source_platform=models.F("target_platform"))
                    & models.Q(source_model=models.F("target_model"))
                ),
                name="syncs_sync_source_differs_from_target",
                violation_error_message=_(
                    "Source and target are the same platform and model."
                ),
            ),
        ]
        indexes = [models.Index(fields=["source_platform", "status"])]

    def __str__(self) -> str:
        return self.title or self.title_generate()

    def save(self, *args, **kwargs):
        if not self.title:
            self.title = self.title_generate()[:255]
        super().save(*args, **kwargs)

    def title_generate(self) -> str:
        """Return Moox's title: "src (model) to dst (model)" [+ " by platform"]."""
        source = getattr(self.source_platform, "domain", "?")
        target = getattr(self.target_platform, "domain", "?")
        title = f"{source} ({self.source_model}) to {target} ({self.target_model})"
        return title + (" by platform" if self.use_platform_relations else "")

    def clean(self) -> None:
        errors: dict[str, list] = {}
        for side in ("source", "target"):
            platform = getattr(self, f"{side}_platform", None)
            label = getattr(self, f"{side}_model")
            if platform and platform.is_current and MODEL_LABEL_RE.match(label or ""):
                try:
                    apps.get_model(label)
                except LookupError:
                    errors.setdefault(f"{side}_model", []).append(
                        ValidationError(
                            _("%(label)s is not a model installed on this platform."),
                            params={"label": label},
                            code="unknown_model",
                        )
                    )
        if errors:
            raise ValidationError(errors)


class SyncFill(models.Model):
    """A sync's initial fill: every source record it covers sent once, page by page.

    Kept on the sync's source platform, where the fill runs (syncs.fill).
    ``after`` is the last source pk queued, the keyset cursor a fill resumes
    from; it moves in the transaction that writes the page's outbox rows, so
    a fill cut short resumes where it was, neither losing nor repeating a page.
    """

    class Status(models.TextChoices):
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    sync = models.OneToOneField(
        Sync, on_delete=models.CASCADE, primary_key=True, related_name="fill"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.RUNNING
    )
    # Records the sync covered when the fill started (None: not counted yet).
    total = models.PositiveBigIntegerField(_("records in all"), null=True)
    queued = models.PositiveBigIntegerField(_("records queued"), default=0)
    delivered = models.PositiveBigIntegerField(_("records delivered"), default=0)
    after = models.CharField(max_length=255, blank=True)
    # The pk of the fill's first outbox row: its rows have pks from here on.
    first_outbox_pk = models.BigIntegerField(null=True)
    error = models.TextField(_("error"), blank=True)
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("initial fill")
        verbose_name_plural = _("initial fills")

    def __str__(self) -> str:
        return f"{self.sync}: {self.get_status_display()}"


class EventType(models.TextChoices):
    CREATED = "created", _("created")
    UPDATED = "updated", _("updated")
    DELETED = "deleted", _("deleted")


class OutboxEvent(models.Model):
    """A change of a synced record waiting to be delivered to one target."""

    class Status(models.TextChoices):
        # Written before an autocommit save, never sent (see syncs.outbox).
        INTENT = "intent", _("intent (saving)")
        PENDING = "pending", _("pending")
        DELIVERED = "delivered", _("delivered")
        FAILED = "failed", _("failed (refused by the target)")
        DEAD = "dead", _("dead (out of attempts)")

    # No database constraints: a process whose list of syncs is a moment old
    # may still record a change for a sync just deleted elsewhere, and that
    # must not fail the save. Delivery fails such rows instead.
    sync = models.ForeignKey(
        Sync,
        on_delete=models.CASCADE,
        related_name="outbox_events",
        null=True,
        db_constraint=False,
        db_index=False,  # every save of a synced model writes here: one index
    )
    # Copied from the sync so the queue of one target is a single index range.
    target_platform = models.ForeignKey(
        "platforms.Platform",
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,  # the queue index below starts with it
    )
    # The event's id and version on the wire (see syncs.event_ids).
    event_id = models.CharField(max_length=64, default=event_id_new, editable=False)
    version = models.BigIntegerField(default=event_version_new, editable=False)
    event_type = models.CharField(max_length=10, choices=EventType.choices)
    object_pk = models.CharField(max_length=255)
    object_key = models.JSONField()
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    next_attempt_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("outbox event")
        verbose_name_plural = _("outbox events")
        indexes = [
            models.Index(
                fields=["target_platform", "status", "id"],
                name="syncs_outbox_queue",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.event_type} {self.object_key} -> platform {self.target_platform_id}"
        )


class WorkQueue(models.Model):
    """A named queue's "delivery requested" flag and its worker lease.

    Commits set ``requested`` (and publish one broker message) only when it is
    not already set; a worker clears it before draining. So a burst of changes
    costs a handful of messages, and no committed change is left without one.
    """

    name = models.CharField(max_length=100, primary_key=True)
    requested = models.BooleanField(default=False)
    lease_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("work queue")
        verbose_name_plural = _("work queues")

    def __str__(self) -> str:
        return self.name
