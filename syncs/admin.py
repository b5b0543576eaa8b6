"""Admin for syncs (Moox's Filament SyncResource) and a platform's syncs."""

from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from platforms.admin import PlatformAdmin
from platforms.models import Platform
from syncs.models import OutboxEvent, Sync
from syncs.outbox import outbox_retry


class SyncAdminForm(forms.ModelForm):
    """Sync form; the admin sets its model and fields from the fieldsets."""

    class Meta:
        help_texts = {
            "title": _("Leave blank to generate one from the source and target."),
        }

    def clean_sync_ids(self):
        # An emptied JSON box means "no ids", not NULL (the column is NOT NULL).
        value = self.cleaned_data["sync_ids"]
        return [] if value is None else value

    def clean_field_mappings(self):
        value = self.cleaned_data["field_mappings"]
        return {} if value is None else value


@admin.register(Sync)
class SyncAdmin(admin.ModelAdmin):
    form = SyncAdminForm
    list_display = [
        "title",
        "source",
        "target",
        "use_platform_relations",
        "status",
        "last_sync",
        "has_errors",
        "error_summary",
    ]
    list_filter = [
        "status",
        "source_platform",
        "target_platform",
        "has_errors",
        "if_exists",
        "use_platform_relations",
    ]
    search_fields = ["title", "source_model", "target_model", "error_message"]
    list_select_related = ["source_platform", "target_platform"]
    readonly_fields = ["uuid", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["status", "title"]}),
        (_("Source"), {"fields": ["source_platform", "source_model"]}),
        (_("Target"), {"fields": ["target_platform", "target_model"]}),
        (
            _("Options"),
            {
                "fields": [
                    "use_platform_relations",
                    "if_exists",
                    "sync_ids",
                    "sync_all_fields",
                    "field_mappings",
                    "use_transformer_class",
                    "interval",
                ]
            },
        ),
        (
            _("State"),
            {
                "fields": [
                    "has_errors",
                    "error_message",
                    "last_sync",
                    "uuid",
                    "created_at",
                    "updated_at",
                ]
            },
        ),
    ]

    @admin.display(description=_("source"), ordering="source_platform__name")
    def source(self, sync: Sync) -> str:
        return f"{sync.source_platform} ({sync.source_model})"

    @admin.display(description=_("target"), ordering="target_platform__name")
    def target(self, sync: Sync) -> str:
        return f"{sync.target_platform} ({sync.target_model})"

    @admin.display(description=_("error"))
    def error_summary(self, sync: Sync) -> str:
        return Truncator(sync.error_message).chars(60)


class PlatformSyncInline(admin.TabularInline):
    """List a platform's syncs read-only, each linked to its own page."""

    model = Sync
    extra = 0
    can_delete = False
    fields = readonly_fields = ["sync_link", "status", "has_errors", "last_sync"]

    @admin.display(description=_("sync"))
    def sync_link(self, sync: Sync) -> str:
        url = reverse("admin:syncs_sync_change", args=[sync.pk])
        return format_html('<a href="{}">{}</a>', url, sync)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("source_platform", "target_platform")
        )

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class SyncAsSourceInline(PlatformSyncInline):
    fk_name = "source_platform"
    verbose_name = _("sync from this platform")
    verbose_name_plural = _("syncs from this platform")


class SyncAsTargetInline(PlatformSyncInline):
    fk_name = "target_platform"
    verbose_name = _("sync to this platform")
    verbose_name_plural = _("syncs to this platform")


# Imports point syncs -> platforms, so the platforms admin cannot list syncs
# itself. Re-register it here with the sync lists added, the way projects extend
# contrib.auth's UserAdmin, instead of patching PlatformAdmin's attributes.
admin.site.unregister(Platform)


@admin.register(Platform)
class PlatformWithSyncsAdmin(PlatformAdmin):
    inlines = [*PlatformAdmin.inlines, SyncAsSourceInline, SyncAsTargetInline]


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin):
    """The source's delivery queue: what waits, what was sent, what failed."""

    list_display = [
        "id",
        "event_type",
        "sync",
        "target_platform",
        "object_key",
        "status",
        "attempts",
        "created_at",
        "next_attempt_at",
        "delivered_at",
        "error_summary",
    ]
    list_filter = ["status", "target_platform", "event_type", "sync"]
    search_fields = ["object_pk", "last_error"]
    list_select_related = ["sync", "target_platform"]
    readonly_fields = [f.name for f in OutboxEvent._meta.fields]
    actions = ["retry_now"]
    date_hierarchy = "created_at"

    @admin.display(description=_("error"))
    def error_summary(self, row: OutboxEvent) -> str:
        return Truncator(row.last_error).chars(80)

    @admin.action(description=_("Retry now"))
    def retry_now(self, request, queryset) -> None:
        count = outbox_retry(queryset=queryset)
        self.message_user(
            request,
            _("%(count)d event(s) queued for delivery again.") % {"count": count},
        )

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
