"""The outbox's delivery log: what waits, what was sent, what failed."""

from django.contrib import admin
from django.utils.text import Truncator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from syncs.admin.log_display import duration_text, payload_html
from syncs.delivery_log import (
    PayloadUnavailable,
    latency_annotate,
    latency_of,
    outbox_event_payload,
)
from syncs.models import OutboxEvent
from syncs.outbox import outbox_retry


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin):
    """List outbox rows and show each with the payload it would be sent in."""

    list_display = [
        "id",
        "event_type",
        "model_label",
        "target_platform",
        "object_key",
        "status",
        "attempts",
        "created_at",
        "delivered_at",
        "latency",
        "error_summary",
    ]
    list_filter = [
        "status",
        "target_platform",
        "event_type",
        ("sync__source_model", admin.AllValuesFieldListFilter),
        "sync",
    ]
    search_fields = [
        "object_pk",
        "=event_id",  # as the target's inbox shows it
        "last_error",
        "sync__source_model",
        "sync__title",
    ]
    list_select_related = ["sync", "target_platform"]
    actions = ["retry_now"]
    date_hierarchy = "created_at"
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "sync",
                    "model_label",
                    "target_platform",
                    "event_type",
                    "object_pk",
                    "object_key",
                    "event_id",
                    "version",
                ]
            },
        ),
        (
            _("Delivery"),
            {
                "fields": [
                    "status",
                    "attempts",
                    "last_error",
                    "created_at",
                    "next_attempt_at",
                    "delivered_at",
                    "latency",
                ]
            },
        ),
        (_("Payload as it would be sent now"), {"fields": ["payload"]}),
    ]
    readonly_fields = [name for _title, opts in fieldsets for name in opts["fields"]]

    class Media:
        css = {"all": ["syncs/admin/delivery_log.css"]}

    def get_queryset(self, request):
        rows = super().get_queryset(request).select_related("sync", "target_platform")
        return latency_annotate(rows, start="created_at", end="delivered_at")

    @admin.display(description=_("model"), ordering="sync__source_model")
    def model_label(self, row: OutboxEvent) -> str:
        return row.sync.source_model if row.sync else ""

    @admin.display(description=_("latency"), ordering="latency")
    def latency(self, row: OutboxEvent) -> str:
        return duration_text(latency_of(row.created_at, row.delivered_at))

    @admin.display(description=_("error"))
    def error_summary(self, row: OutboxEvent) -> str:
        return Truncator(row.last_error).chars(80)

    @admin.display(description=_("payload"))
    def payload(self, row: OutboxEvent) -> str:
        try:
            return payload_html(outbox_event_payload(row=row))
        except PayloadUnavailable as error:
            return gettext("The payload cannot be built: %(reason)s") % {
                "reason": error
            }

    @admin.action(description=_("Retry now"))
    def retry_now(self, request, queryset) -> None:
        count = outbox_retry(queryset=queryset)
        self.message_user(
            request,
            gettext("%(count)d event(s) queued for delivery again.") % {"count": count},
        )

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
