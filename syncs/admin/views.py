"""JSON views behind the Sync form's script: model choices, compatibility."""

from django.http import JsonResponse
from django.utils.translation import gettext as _

from platforms.models import Platform
from syncs.admin.forms import SyncSketchForm, mappings_text
from syncs.catalog import CatalogUnavailable, platform_models
from syncs.compatibility import sync_compatibility


def _error(code: str, detail: str, status: int) -> JsonResponse:
    return JsonResponse({"error": code, "detail": detail}, status=status)


def platform_models_answer(request) -> JsonResponse:
    """Answer the models the platform ``?platform=<id>`` offers for syncing."""
    platform_id = request.GET.get("platform", "")
    if not platform_id.isdigit():
        return _error("invalid", _("Give the platform as ?platform=<id>."), 400)
    platform = Platform.objects.filter(pk=int(platform_id)).first()
    if platform is None:
        return _error("not_found", _("There is no such platform."), 404)
    try:
        models = platform_models(platform=platform)
    except CatalogUnavailable as error:
        hint = _("Type the model label (app_label.ModelName) by hand.")
        return _error("platform_unreachable", f"{error.detail} {hint}", 502)
    return JsonResponse({"platform": platform.pk, "models": models})


def compatibility_answer(request) -> JsonResponse:
    """Answer the compatibility warnings and suggested mapping of a sketched sync."""
    form = SyncSketchForm(request.GET)
    if not form.is_valid():
        detail = "; ".join(
            f"{name}: {' '.join(errors)}" for name, errors in form.errors.items()
        )
        return _error("invalid", detail, 400)
    try:
        result = sync_compatibility(sync=form.sync())
    except CatalogUnavailable as error:
        return _error("platform_unreachable", error.detail, 502)
    return JsonResponse(
        {
            "ok": result.ok,
            "warnings": result.warnings(),
            "suggested": result.suggested,
            "suggested_text": mappings_text(result.suggested),
        }
    )
