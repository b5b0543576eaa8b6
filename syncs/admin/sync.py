"""Admin for syncs (Moox's Filament SyncResource)."""

import logging

from django.contrib import admin, messages
from django.http import JsonResponse
from django.urls import path
from django.utils.text import Truncator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from syncs.admin import views
from syncs.admin.fill import fill_state_html
from syncs.admin.forms import SyncAdminForm, privileged_warning
from syncs.admin.reports import report_level, report_text
from syncs.catalog import CatalogUnavailable
from syncs.compatibility import sync_compatibility
from syncs.fill import FillError, fill_retry, fill_start
from syncs.models import Sync, SyncFill
from syncs.pull import SYNC_OPTIONS

logger = logging.getLogger(__name__)
# The fields the compatibility of a sync depends on: saving others asks nobody.
COMPARED_FIELDS = frozenset(
    {
        "source_platform",
        "source_model",
        "target_platform",
        "target_model",
        "field_mappings",
        "sync_all_fields",
    }
)


def _backup_runner():
    """Return the backup service, ``sync_backup(*, sync, dry_run) -> report``.

    Imported when asked for, so the admin loads even while the backup package
    is missing or broken; the action then says so.
    """
    from syncs.backup.services import sync_backup

    return sync_backup


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
        "fill_state",
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
    list_select_related = ["source_platform", "target_platform", "fill"]
    readonly_fields = ["fill_state", "uuid", "created_at", "updated_at"]
    actions = ["sync_now", "fill_again", "fill_retry_failed"]
    fieldsets = [
        (None, {"fields": ["status", "title"]}),
        (_("Source"), {"fields": ["source_platform", "source_model"]}),
        (_("Target"), {"fields": ["target_platform", "target_model"]}),
        (_("Options"), {"fields": SYNC_OPTIONS}),
        (
            _("State"),
            {
                "fields": [
                    "fill_state",
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

    class Media:
        js = ["syncs/admin/sync_form.js"]
        css = {"all": ["syncs/admin/sync_form.css"]}

    @admin.display(description=_("source"), ordering="source_platform__name")
    def source(self, sync: Sync) -> str:
        return f"{sync.source_platform} ({sync.source_model})"

    @admin.display(description=_("target"), ordering="target_platform__name")
    def target(self, sync: Sync) -> str:
        return f"{sync.target_platform} ({sync.target_model})"

    @admin.display(description=_("error"))
    def error_summary(self, sync: Sync) -> str:
        return Truncator(sync.error_message).chars(60)

    @admin.display(description=_("initial fill"))
    def fill_state(self, sync: Sync) -> str:
        if sync.pk is None:
            return gettext("starts once the sync is saved")
        return fill_state_html(sync, here=sync.source_platform.is_current)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("models/", wrap(self.models_view), name="syncs_sync_models"),
            path(
                "compatibility/",
                wrap(self.compatibility_view),
                name="syncs_sync_compatibility",
            ),
            *super().get_urls(),
        ]

    def _may_edit(self, request) -> bool:
        return self.has_add_permission(request) or self.has_change_permission(request)

    def models_view(self, request) -> JsonResponse:
        if not self._may_edit(request):
            return _forbidden()
        return views.platform_models_answer(request)

    def compatibility_view(self, request) -> JsonResponse:
        if not self._may_edit(request):
            return _forbidden()
        return views.compatibility_answer(request)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change or COMPARED_FIELDS & set(form.changed_data):
            self._compatibility_warn(request, obj)
        if warning := privileged_warning(obj):
            self.message_user(request, warning, messages.WARNING)

    def _compatibility_warn(self, request, sync: Sync) -> None:
        """Tell what the two models disagree on; saving is never refused for it."""
        try:
            result = sync_compatibility(sync=sync)
        except CatalogUnavailable as error:
            self.message_user(
                request,
                gettext("The models could not be compared: %(detail)s")
                % {"detail": error.detail},
                messages.WARNING,
            )
            return
        if not result.ok:
            self.message_user(
                request,
                gettext("Check the field mappings: %(warnings)s")
                % {"warnings": " ".join(result.warnings())},
                messages.WARNING,
            )
        if result.suggested and result.suggested != sync.field_mappings:
            pairs = ", ".join(f"{s}={t}" for s, t in result.suggested.items())
            self.message_user(
                request,
                gettext("Suggested field mappings: %(pairs)s") % {"pairs": pairs},
                messages.INFO,
            )

    @admin.action(description=_("Sync now (run a backup of the selected syncs)"))
    def sync_now(self, request, queryset) -> None:
        try:
            run = _backup_runner()
        except (ImportError, AttributeError) as error:
            self.message_user(
                request,
                gettext(
                    "Sync now is not available: the backup service "
                    "(syncs.backup.services.sync_backup) could not be loaded: "
                    "%(error)s"
                )
                % {"error": error},
                messages.ERROR,
            )
            return
        for sync in queryset.select_related("source_platform", "target_platform"):
            self._sync_run(request, run, sync)

    def _sync_run(self, request, run, sync: Sync) -> None:
        try:
            report = run(sync=sync, dry_run=False)
        except Exception as error:  # one sync's failure must not hide the others'
            logger.warning("Sync now failed for sync %s: %s", sync.pk, error)
            logger.debug("Sync now failed for sync %s", sync.pk, exc_info=True)
            self.message_user(
                request,
                gettext("%(sync)s failed: %(error)s") % {"sync": sync, "error": error},
                messages.ERROR,
            )
            return
        self.message_user(
            request, report_text(report, title=str(sync)), report_level(report)
        )

    @admin.action(description=_("Fill the target again (send every record)"))
    def fill_again(self, request, queryset) -> None:
        started = []
        for sync in queryset.select_related("source_platform", "target_platform"):
            try:
                fill_start(sync)
            except FillError as error:
                self.message_user(request, str(error), messages.ERROR)
            else:
                started.append(str(sync))
        if started:
            self.message_user(
                request,
                gettext("Fill started: %(syncs)s") % {"syncs": ", ".join(started)},
                messages.SUCCESS,
            )

    @admin.action(description=_("Retry the failed fills"))
    def fill_retry_failed(self, request, queryset) -> None:
        failed = SyncFill.objects.filter(
            sync__in=queryset, status=SyncFill.Status.FAILED
        ).select_related("sync")
        retried = [(str(fill.sync), fill_retry(fill)) for fill in failed]
        if not retried:
            self.message_user(
                request, gettext("None of the selected fills failed."), messages.INFO
            )
            return
        for title, count in retried:
            self.message_user(
                request,
                gettext("%(sync)s: the fill goes on; %(count)s records sent again.")
                % {"sync": title, "count": count},
                messages.SUCCESS,
            )


def _forbidden() -> JsonResponse:
    detail = gettext("You may not add or change syncs.")
    return JsonResponse({"error": "forbidden", "detail": detail}, status=403)
