"""The Sync admin form: model labels with suggestions, mappings as plain lines."""

import json

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from platforms.conf import sync_settings
from platforms.models import Platform
from syncs.mapping import privileged_fields, privileged_fields_mapped
from syncs.models import Sync
from syncs.selectors import syncable_models

MAPPING_SEPARATORS = ("->", "=")


class ModelLabelInput(forms.TextInput):
    """A text box for ``app_label.ModelName`` with a list of suggestions.

    The suggestions are a ``<datalist>``, so any label can still be typed; the
    form's script refills them when the platform select named by
    ``platform_field`` changes, and explains in the status line when it can't.
    """

    def __init__(self, attrs=None, *, platform_field: str) -> None:
        super().__init__(attrs)
        self.platform_field = platform_field
        self.options: list[tuple[str, str]] = []

    def render(self, name, value, attrs=None, renderer=None):
        attrs = dict(attrs or {})
        base = attrs.get("id") or f"id_{name}"
        list_id, status_id = f"{base}_choices", f"{base}_status"
        described = attrs.get("aria-describedby", "")
        attrs |= {
            "list": list_id,
            "autocomplete": "off",
            "data-platform-field": f"id_{self.platform_field}",
            "aria-describedby": f"{described} {status_id}".strip(),
        }
        box = super().render(name, value, attrs, renderer)
        options = format_html_join("", '<option value="{}">{}</option>', self.options)
        return format_html(
            '<div class="sync-model-label">{}<datalist id="{}">{}</datalist>'
            '<p id="{}" class="sync-models-status" aria-live="polite"></p></div>',
            box,
            list_id,
            options,
            status_id,
        )


def mappings_text(value: dict) -> str:
    """Return field mappings as ``source=target`` lines."""
    return "\n".join(f"{source}={target}" for source, target in value.items())


def privileged_fields_text() -> str:
    """Return this platform's privileged fields, as "label: a, b; label: c"."""
    return "; ".join(
        f"{label}: {', '.join(sorted(privileged_fields(label)))}"
        for label in sync_settings.SYNC_PRIVILEGED_FIELDS
        if privileged_fields(label)
    )


def privileged_warning(sync: Sync) -> str | None:
    """Return a warning if the sync writes privileged fields on its target."""
    names = privileged_fields_mapped(sync)
    if not names:
        return None
    return gettext(
        "This sync writes privileged fields of %(model)s on its target: "
        "%(fields)s. The source's values replace the target's, also on the "
        "target's own records with the same key (its own admin user, say)."
    ) % {"model": sync.target_model, "fields": ", ".join(names)}


def _mapping_line(number: int, line: str) -> tuple[str, str]:
    for separator in MAPPING_SEPARATORS:
        source, found, target = line.partition(separator)
        if found and source.strip() and target.strip():
            return source.strip(), target.strip()
    raise ValidationError(
        _("Line %(line)d: write source_field=target_field."),
        params={"line": number},
        code="mapping_line",
    )


class FieldMappingsField(forms.Field):
    """Field mappings typed as ``source=target`` lines (JSON is accepted too)."""

    widget = forms.Textarea(attrs={"rows": 4, "cols": 40, "spellcheck": "false"})
    default_help_text = _(
        "One mapping per line: source_field=target_field. Leave empty to sync "
        "fields under their own names."
    )

    def prepare_value(self, value):
        return mappings_text(value) if isinstance(value, dict) else value

    def to_python(self, value):
        text = (value or "").strip() if isinstance(value, str) else value
        if not text:
            return {}
        if not isinstance(text, str):
            return text
        if text[0] in "{[":
            try:
                return json.loads(text)  # the model's validator checks its shape
            except json.JSONDecodeError:
                raise ValidationError(
                    _("Enter a valid JSON."), code="invalid"
                ) from None
        return self._lines_parse(text)

    def _lines_parse(self, text: str) -> dict[str, str]:
        mappings: dict[str, str] = {}
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            source, target = _mapping_line(number, line)
            if source in mappings:
                raise ValidationError(
                    _("Line %(line)d: %(field)s is mapped twice."),
                    params={"line": number, "field": source},
                    code="mapping_twice",
                )
            mappings[source] = target
        return mappings


class SyncAdminForm(forms.ModelForm):
    """Sync form; the admin sets its model and fields from the fieldsets."""

    field_mappings = FieldMappingsField(
        label=capfirst(_("field mappings")),
        required=False,
        help_text=FieldMappingsField.default_help_text,
    )

    class Meta:
        help_texts = {
            "title": _("Leave blank to generate one from the source and target."),
        }
        widgets = {
            "source_model": ModelLabelInput(platform_field="source_platform"),
            "target_model": ModelLabelInput(platform_field="target_platform"),
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        models_url = reverse("admin:syncs_sync_models")
        for side in ("source", "target"):
            widget = self.fields[f"{side}_model"].widget
            widget.attrs["data-models-url"] = models_url
            platform = self._platform_of(side)
            if platform is not None and platform.is_current:
                widget.options = _local_model_options()
        self._privileged_note()
        domains = dict(Platform.objects.values_list("pk", "domain"))
        self.fields["title"].widget.attrs |= {
            "data-domains": json.dumps({str(pk): d for pk, d in domains.items()}),
            "data-by-platform": " by platform",
        }

    def _privileged_note(self) -> None:
        """Say which fields only a mapping writes, and warn if this sync does."""
        field = self.fields["field_mappings"]
        listed = privileged_fields_text()
        if listed:
            field.help_text = format_html(
                "{} {}",
                field.help_text,
                gettext(
                    "Privileged fields are written only when a line names them "
                    "(e.g. is_staff=is_staff): %(fields)s."
                )
                % {"fields": listed},
            )
        if self.instance.pk and (warning := privileged_warning(self.instance)):
            field.help_text = format_html(
                '{}<br><strong class="sync-privileged-warning">{}</strong>',
                field.help_text,
                warning,
            )

    def _platform_of(self, side: str) -> Platform | None:
        value = self[f"{side}_platform"].value()
        if isinstance(value, Platform):
            return value
        try:
            return Platform.objects.filter(pk=int(value)).first() if value else None
        except (TypeError, ValueError):
            return None

    def clean_sync_ids(self):
        # An emptied JSON box means "no ids", not NULL (the column is NOT NULL).
        value = self.cleaned_data["sync_ids"]
        return [] if value is None else value


def _local_model_options() -> list[tuple[str, str]]:
    return [
        (model._meta.label, str(model._meta.verbose_name))
        for model in syncable_models()
    ]


class SyncSketchForm(forms.Form):
    """The query of the compatibility check: an unsaved sync's sides and mappings."""

    source_platform = forms.ModelChoiceField(queryset=Platform.objects.all())
    source_model = forms.CharField(max_length=255)
    target_platform = forms.ModelChoiceField(queryset=Platform.objects.all())
    target_model = forms.CharField(max_length=255)
    field_mappings = FieldMappingsField(required=False)
    sync_all_fields = forms.BooleanField(required=False)

    def clean_field_mappings(self):
        value = self.cleaned_data["field_mappings"]
        if not isinstance(value, dict):
            raise ValidationError(
                _("Enter the mappings as source_field=target_field lines."),
                code="field_mappings",
            )
        return value

    def sync(self) -> Sync:
        """Return the unsaved sync this query describes."""
        return Sync(**self.cleaned_data)
