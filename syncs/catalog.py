"""The models a platform offers for syncing: read here, or asked of its API.

The Sync form offers these as model choices. This platform reads its own list
directly (the same list /api/models/ answers); another platform is asked over
HTTP with this platform's own token, briefly, since an admin page waits for it.
"""

from dataclasses import asdict

import requests
from django.utils.translation import gettext as _

from platforms.models import Platform
from platforms.selectors import platform_current
from syncs.selectors import syncable_models_describe

# (connect, read) seconds: a person waits for the answer in the form.
CATALOG_TIMEOUT = (2.0, 5.0)


class CatalogUnavailable(Exception):
    """A platform's list of models could not be read; ``detail`` says why."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def platform_models(*, platform: Platform) -> list[dict]:
    """Return the models ``platform`` offers, as /api/models/ describes them.

    Raise CatalogUnavailable when another platform cannot be asked or answers
    with something that is not a list of models.
    """
    if platform.is_current:
        return [asdict(model) for model in syncable_models_describe()]
    return _remote_models(platform)


def _remote_models(platform: Platform) -> list[dict]:
    url = f"{platform.base_url}/api/models/"
    try:
        # One request now and then: no session, no connection kept open.
        response = requests.get(url, headers=_auth_headers(), timeout=CATALOG_TIMEOUT)
    except requests.RequestException as error:
        raise CatalogUnavailable(
            _("The platform %(platform)s could not be reached at %(url)s: %(reason)s")
            % {"platform": platform, "url": url, "reason": _failure_reason(error)}
        ) from None
    if response.status_code != 200:
        raise CatalogUnavailable(
            _("The platform %(platform)s answered %(status)s at %(url)s.")
            % {"platform": platform, "status": response.status_code, "url": url}
        )
    return _models_parse(platform, response)


def _failure_reason(error: requests.RequestException) -> str:
    """Return the short cause of a failed request ("Failed to resolve ...")."""
    if isinstance(error, requests.Timeout):
        return _("no answer within %(seconds)s seconds") % {
            "seconds": sum(CATALOG_TIMEOUT)
        }
    # requests wraps urllib3's error, whose ``reason`` names the real cause.
    cause = getattr(error.args[0], "reason", None) if error.args else None
    return str(cause or error).split("): ", 1)[-1]


def _auth_headers() -> dict[str, str]:
    current = platform_current()
    if current is None or not current.api_token:
        raise CatalogUnavailable(
            _(
                "This platform has no Platform row with an API token of its "
                "own, so it cannot ask other platforms for their models."
            )
        )
    return {"Authorization": f"Bearer {current.api_token}"}


def _models_parse(platform: Platform, response: requests.Response) -> list[dict]:
    try:
        models = response.json()
    except ValueError:
        models = None
    if not isinstance(models, list) or not all(
        isinstance(model, dict) and isinstance(model.get("label"), str)
        for model in models
    ):
        raise CatalogUnavailable(
            _("The platform %(platform)s did not answer with a list of models.")
            % {"platform": platform}
        )
    return models


def model_find(models: list[dict], label: str) -> dict | None:
    """Return the description of ``label`` (case-insensitive) among ``models``."""
    wanted = label.lower()
    return next((m for m in models if m["label"].lower() == wanted), None)
