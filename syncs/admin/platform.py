"""The platform admin with the syncs from and to each platform listed."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from platforms.admin import PlatformAdmin
from platforms.models import Platform
from syncs.models import Sync


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
