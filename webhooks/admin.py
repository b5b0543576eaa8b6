"""The inbox's delivery log: what arrived, what was applied, what failed."""

from django.contrib import admin
from django.utils.text import Truncator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from syncs.admin.log_display import duration_text, payload_html
from syncs.delivery_log import latency_annotate, latency_of
from syncs.masking import secrets_mask
from webhooks.models import InboxEvent
from webhooks.replay import inbox_replay


@admin.register(InboxEvent)
class InboxEventAdmin(admin.ModelAdmin):
    """List received events and show each with its data, secrets masked."""

    list_display = [
        "id",
        "event_type",
        "model_label",
        "source_platform",
        "object_key",
        "status",
        "received_at",
        "applied_at",
        "latency",
        "error_summary",
    ]
    list_filter = ["status", "source_platform", "event_type", "model_label", "sync"]
    search_fields = ["event_id", "model_label", "error", "sync__title"]
    list_select_related = ["source_platform", "sync"]
    actions = ["retry"]
    date_hierarchy = "received_at"
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "sync",
                    "source_platform",
                    "event_id",
                    "version",
                    "event_type",
                    "model_label",
                    "object_key",
                    "source_pk",
                    "should_delete",
                    "platforms",
                ]
            },
        ),
        (
            _("Outcome"),
            {"fields": ["status", "error", "received_at", "applied_at", "latency"]},
        ),
        # The stored data is shown masked only: never list "data" itself here.
        (_("Data as received"), {"fields": ["payload"]}),
    ]
    readonly_fields = [name for _title, opts in fieldsets for name in opts["fields"]]

    class Media:
        css = {"all": ["syncs/admin/delivery_log.css"]}

    def get_queryset(self, request):
        rows = super().get_queryset(request).select_related("source_platform", "sync")
        return latency_annotate(rows, start="received_at", end="applied_at")

    @admin.display(description=_("latency"), ordering="latency")
    def latency(self, event: InboxEvent) -> str:
        return duration_text(latency_of(event.received_at, event.applied_at))

    @admin.display(description=_("error"))
    def error_summary(self, event: InboxEvent) -> str:
        return Truncator(event.error).chars(80)

    @admin.display(description=_("data"))
    def payload(self, event: InboxEvent) -> str:
        return payload_html(secrets_mask(event.data))

    @admin.action(description=_("Retry failed events"))
    def retry(self, request, queryset) -> None:
        count = inbox_replay(queryset=queryset)
        self.message_user(
            request,
            gettext("%(count)d event(s) queued to be applied again.")
            % {"count": count},
        )

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
