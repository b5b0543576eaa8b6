"""A "platforms" field on the admin forms of models with platform relations.

Every ModelAdmin of the admin site gets the mixin below once the registry is
complete; per request it adds the field only for the models listed in
SYNC_MODELS_WITH_PLATFORM_RELATIONS, so the setting is read when a form is
built, never at import time.
"""

from django import forms
from django.contrib import admin
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from platforms.conf import sync_settings
from platforms.models import Platform
from platforms.services import platform_relations_get, platform_relations_set

FIELD = "sync_platforms"


class PlatformRelationsFormMixin(forms.ModelForm):
    """Edit the platforms the form's record belongs to; save them with it."""

    sync_platforms = forms.ModelMultipleChoiceField(
        queryset=Platform.objects.all(),
        required=False,
        label=capfirst(_("platforms")),
        help_text=_("The platforms this record belongs to (platform relations)."),
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None and FIELD not in self.initial:
            related = platform_relations_get(record=self.instance)
            self.initial[FIELD] = list(related.values_list("pk", flat=True))

    def _save_m2m(self) -> None:
        # Runs once the record is saved (so it has a pk), with or without commit.
        super()._save_m2m()
        if FIELD in self.cleaned_data:
            platform_relations_set(
                record=self.instance, platforms=self.cleaned_data[FIELD]
            )


def _without_field(names):
    return [name for name in names if name != FIELD]


class PlatformRelationsAdminMixin:
    """Add the platforms field to the form of a model with platform relations."""

    def _has_platform_relations(self) -> bool:
        return (
            self.model._meta.label in sync_settings.SYNC_MODELS_WITH_PLATFORM_RELATIONS
        )

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if not self._has_platform_relations():
            return fieldsets
        kept = [
            (title, {**options, "fields": _without_field(options["fields"])})
            for title, options in fieldsets
        ]
        return [*kept, (_("Platforms"), {"fields": [FIELD]})]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if not self._has_platform_relations():
            return super().get_form(request, obj, change=change, **kwargs)
        if kwargs.get("fields"):
            kwargs["fields"] = _without_field(kwargs["fields"])
        form = super().get_form(request, obj, change=change, **kwargs)
        if FIELD in form.base_fields:
            return form
        return type(form.__name__, (PlatformRelationsFormMixin, form), {})

    @admin.display(description=_("platforms"))
    def sync_platforms(self, obj) -> str:
        """Show the platforms read-only (for users who may only view)."""
        if obj is None or obj.pk is None:
            return ""
        return ", ".join(str(p) for p in platform_relations_get(record=obj))


def platform_relations_admin_install(site: admin.AdminSite) -> None:
    """Re-register every ModelAdmin of ``site`` with PlatformRelationsAdminMixin.

    Call it once every admin module is imported (an AppConfig.ready() after
    django.contrib.admin's); it touches no database.
    """
    for model, model_admin in list(site._registry.items()):
        admin_class = type(model_admin)
        if isinstance(model_admin, PlatformRelationsAdminMixin):
            continue
        site.unregister(model)
        site.register(
            model,
            type(
                admin_class.__name__,
                (PlatformRelationsAdminMixin, admin_class),
                {"__module__": admin_class.__module__},
            ),
        )
