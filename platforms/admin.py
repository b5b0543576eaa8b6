"""Admin for platforms (Moox's Filament PlatformResource).

The lists of a platform's syncs are added by ``syncs.admin``: imports point
``syncs -> platforms``, so this module must not know about syncs.
"""

import logging

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.timesince import timesince
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from platforms.keys import platform_key_first, platform_key_issue
from platforms.models import Platform, PlatformKey
from platforms.selectors import platform_current_is_master
from platforms.services import (
    platform_credentials_fill,
    platform_ip_resolve,
    platform_token_regenerate,
)

logger = logging.getLogger(__name__)


def _push_service():
    """Return the service that pushes every platform to every platform."""
    from platforms import services

    return services.platforms_push_all


class PlatformAdminForm(forms.ModelForm):
    """Platform form; the admin sets its model and fields from the fieldsets."""

    generate_api_token = forms.BooleanField(
        label=_("Generate a new API token"),
        required=False,
        help_text=_("Replace the API token with a new random one on save."),
    )


class PlatformKeyInline(admin.TabularInline):
    """A platform's signing keys: public halves, age, use. Never a private key."""

    model = PlatformKey
    fields = ["public_key_short", "age", "retires_at", "last_used_at", "held_here"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _(
        "signing keys (issued by the master; rotate with the list action)"
    )

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("public key"))
    def public_key_short(self, key: PlatformKey) -> str:
        return f"{key.public_key[:17]}…"

    @admin.display(description=_("age"))
    def age(self, key: PlatformKey) -> str:
        return timesince(key.created_at)

    @admin.display(boolean=True, description=_("private key here"))
    def held_here(self, key: PlatformKey) -> bool:
        return bool(key.private_key)


@admin.register(Platform)
class PlatformAdmin(admin.ModelAdmin):
    form = PlatformAdminForm
    inlines = [PlatformKeyInline]
    list_display = [
        "thumbnail_preview",
        "name",
        "domain",
        "master",
        "locked",
        "has_api_token",
        "show_in_menu",
        "order",
        "created_at",
    ]
    list_display_links = ["name"]
    list_filter = ["master", "locked", "show_in_menu"]
    search_fields = ["name", "domain"]
    ordering = ["order", "name"]
    actions = ["generate_api_tokens", "rotate_signing_keys"]
    readonly_fields = ["uuid", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["name", "domain", "scheme", "ip_address", "thumbnail"]}),
        (
            _("Credentials"),
            {"fields": ["api_token", "generate_api_token", "signing_secret"]},
        ),
        (
            _("State"),
            {"fields": ["master", "locked", "lock_reason", "show_in_menu", "order"]},
        ),
        (_("Record"), {"fields": ["uuid", "created_at", "updated_at"]}),
    ]

    @admin.display(description=_("thumbnail"))
    def thumbnail_preview(self, platform: Platform) -> str:
        if not platform.thumbnail:
            return ""
        return format_html(
            '<img src="{}" alt="" height="24" style="max-width: 48px">',
            platform.thumbnail.url,
        )

    @admin.display(boolean=True, description=_("has token"))
    def has_api_token(self, platform: Platform) -> bool:
        return platform.has_token

    def get_urls(self):
        push = self.admin_site.admin_view(self.push_view)
        return [
            path("push/", push, name="platforms_platform_push"),
            *super().get_urls(),
        ]

    def push_view(self, request):
        """Push the platform list to every platform now (Moox's "Sync Platforms")."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_change_permission(request):
            raise PermissionDenied
        self._push(request)
        return HttpResponseRedirect(reverse("admin:platforms_platform_changelist"))

    def _push(self, request) -> None:
        try:
            push = _push_service()
        except (ImportError, AttributeError) as error:
            self.message_user(
                request,
                gettext(
                    "Syncing platforms is not available: the service "
                    "platforms.services.platforms_push_all could not be loaded: "
                    "%(error)s"
                )
                % {"error": error},
                messages.ERROR,
            )
            return
        try:
            outcomes = push()
        except Exception as error:  # e.g. not the master: say so, don't fail
            logger.warning("Syncing platforms failed: %s", error)
            self.message_user(
                request,
                gettext("Syncing platforms failed: %(error)s") % {"error": error},
                messages.ERROR,
            )
            return
        self._push_report(request, outcomes)

    def _push_report(self, request, outcomes) -> None:
        if not outcomes:
            self.message_user(
                request, gettext("There is no other platform to sync."), messages.INFO
            )
        for outcome in outcomes:
            ok = getattr(outcome, "ok", True)
            self.message_user(
                request,
                gettext("%(platform)s: %(detail)s")
                % {
                    "platform": getattr(outcome, "domain", outcome),
                    "detail": getattr(outcome, "detail", "") or gettext("done"),
                },
                messages.SUCCESS if ok else messages.WARNING,
            )

    def get_inlines(self, request, obj):
        # Related lists (the syncs) describe a saved platform; a new one has none.
        return self.inlines if obj else []

    def save_model(self, request, obj, form, change):
        if not change:
            platform_credentials_fill(platform=obj)
        # An address typed into the form wins over the looked-up one.
        if "ip_address" not in form.changed_data:
            self._ip_resolve(request, obj)
        super().save_model(request, obj, form, change)
        if not change:
            platform_key_first(platform=obj)
        if form.cleaned_data.get("generate_api_token"):
            platform_token_regenerate(platform=obj)
            self.message_user(request, _("A new API token was generated for %s.") % obj)

    def _ip_resolve(self, request, platform: Platform) -> None:
        """Look up the platform's IP address; warn instead of failing the save."""
        try:
            found = platform_ip_resolve(platform=platform)
        except OSError as error:
            found, reason = None, error.strerror or str(error)
        else:
            reason = _("no IPv4 or IPv6 address")
        if found is None:
            self.message_user(
                request,
                _("Could not resolve %(host)s: %(reason)s")
                % {"host": platform.host, "reason": reason},
                messages.WARNING,
            )

    @admin.action(description=_("Rotate signing keys (then push the list)"))
    def rotate_signing_keys(self, request, queryset) -> None:
        """Issue each platform a new key; the old one verifies for the overlap."""
        if not platform_current_is_master():
            self.message_user(
                request,
                gettext("Only the master issues signing keys."),
                messages.ERROR,
            )
            return
        for platform in queryset:
            platform_key_issue(platform=platform)
        self.message_user(
            request,
            ngettext(
                "Issued a new signing key for %d platform; the old one verifies "
                "for SYNC_KEY_OVERLAP_SECONDS more.",
                "Issued new signing keys for %d platforms; the old ones verify "
                "for SYNC_KEY_OVERLAP_SECONDS more.",
                len(queryset),
            )
            % len(queryset),
        )
        self._push(request)

    @admin.action(description=_("Generate new API tokens"))
    def generate_api_tokens(self, request, queryset) -> None:
        for platform in queryset:
            platform_token_regenerate(platform=platform)
        count = len(queryset)
        self.message_user(
            request,
            ngettext(
                "Generated a new API token for %d platform.",
                "Generated new API tokens for %d platforms.",
                count,
            )
            % count,
        )
