"""System checks for the sync settings: bindings import, model lists resolve."""

from django.apps import apps
from django.core.checks import Error, register
from django.utils.module_loading import import_string

from platforms.conf import sync_settings


def _check_model_label(label: str, setting: str, check_id: str) -> list[Error]:
    try:
        apps.get_model(label)
    except (LookupError, ValueError):
        return [
            Error(
                f"{setting} names {label!r}, which is not an installed model.",
                hint="Use app_label.ModelName of an installed model.",
                id=check_id,
            )
        ]
    return []


def _check_bindings(setting: str, methods: tuple[str, ...], ids: tuple[str, str]):
    problems = []
    for label, dotted_path in getattr(sync_settings, setting).items():
        problems += _check_model_label(label, setting, ids[0])
        try:
            cls = import_string(dotted_path)
        except ImportError as exc:
            problems.append(
                Error(
                    f"{setting}[{label!r}] = {dotted_path!r} does not import: {exc}",
                    id=ids[1],
                )
            )
            continue
        missing = [name for name in methods if not callable(getattr(cls, name, None))]
        if missing:
            problems.append(
                Error(
                    f"{setting}[{label!r}] = {dotted_path!r} lacks "
                    f"{', '.join(missing)}().",
                    id=ids[1],
                )
            )
    return problems


@register()
def check_sync_settings(app_configs, **kwargs):
    """Report bindings that don't import and model lists naming unknown models."""
    problems = []
    for label in sync_settings.SYNC_MODELS_WITH_PLATFORM_RELATIONS:
        problems += _check_model_label(
            label, "SYNC_MODELS_WITH_PLATFORM_RELATIONS", "syncs.E001"
        )
    problems += _check_bindings(
        "SYNC_TRANSFORMER_BINDINGS", ("transform",), ("syncs.E002", "syncs.E003")
    )
    problems += _check_bindings(
        "SYNC_BINDINGS", ("sync", "delete"), ("syncs.E004", "syncs.E005")
    )
    problems += _check_bindings(
        "FILE_SYNC_RESOLVERS", ("file_fields",), ("syncs.E006", "syncs.E007")
    )
    if sync_settings.SYNC_BATCH_SIZE < 1:
        problems.append(Error("SYNC_BATCH_SIZE must be at least 1.", id="syncs.E008"))
    return problems
