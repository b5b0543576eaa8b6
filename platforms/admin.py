"""Admin for platforms (Moox's Filament PlatformResource).

The lists of a platform's syncs are added by ``syncs.admin``: imports point
``syncs -> platforms``, so this module must not know about syncs.
"""

from django import forms
from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from platforms.models import Platform
from platforms.services import (
    platform_credentials_fill,
    platform_ip_resolve,
    platform_token_regenerate,
)


class PlatformAdminForm(forms.ModelForm):
    """Platform form; the admin sets its model and fields from the fieldsets."""

    generate_api_token = forms.BooleanField(
        label=_("Generate a new API token"),
        required=False,
        help_text=_("Replace the API token with a new random one on save."),
    )


@admin.register(Platform)
class PlatformAdmin(admin.ModelAdmin):
    form = PlatformAdminForm
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
    actions = ["generate_api_tokens"]
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
