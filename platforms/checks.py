"""System checks: what a site needs to run Moox Sync, and well-formed settings.

Each error names the installation step that is missing (README, "Add Moox
Sync to your Django site"), so a site that skipped one is told at start-up.
"""

from celery import current_app
from django.apps import apps
from django.core.checks import Error, Tags, Warning, register
from django.urls import Resolver404, resolve
from drf_spectacular.openapi import AutoSchema

from platforms.conf import sync_settings
from platforms.models import domain_validator

REQUIRED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "rest_framework",
    "drf_spectacular",
    "platforms",
    "syncs",
    "webhooks",
]


@register()
def check_installed_apps(app_configs, **kwargs):
    """Report the apps Moox Sync needs that INSTALLED_APPS lacks."""
    missing = [name for name in REQUIRED_APPS if not apps.is_installed(name)]
    if not missing:
        return []
    return [
        Error(
            f"Moox Sync needs these apps in INSTALLED_APPS: {', '.join(missing)}.",
            hint="Add them (step 2 of 'Add Moox Sync to your Django site').",
            id="platforms.E003",
        )
    ]


@register()
def check_platform_settings(app_configs, **kwargs):
    """Report a missing or malformed SYNC_PLATFORM_DOMAIN or SYNC_WEBHOOK_URL."""
    problems = []
    domain = sync_settings.SYNC_PLATFORM_DOMAIN
    if not domain:
        problems.append(
            Error(
                "SYNC_PLATFORM_DOMAIN is not set: Moox Sync does not know which "
                "platform this site is.",
                hint="Set it in your settings or environment to this site's "
                "domain, e.g. shop.example.com or 127.0.0.1:8000 (step 3).",
                id="platforms.E004",
            )
        )
    else:
        try:
            domain_validator(domain)
        except Exception:
            problems.append(
                Error(
                    f"SYNC_PLATFORM_DOMAIN={domain!r} is not a host name with an "
                    "optional port.",
                    hint="Set it to this platform's domain, e.g. "
                    "sync.example.com:8000.",
                    id="platforms.E001",
                )
            )
    if not sync_settings.SYNC_WEBHOOK_URL.startswith("/"):
        problems.append(
            Error(
                "SYNC_WEBHOOK_URL must be a path starting with '/'.",
                id="platforms.E002",
            )
        )
    token = sync_settings.SYNC_TOKEN
    if token and len(token) < 32:
        problems.append(
            Warning(
                "SYNC_TOKEN is shorter than 32 characters.",
                hint="Use a long random value: python -c "
                "'import secrets; print(secrets.token_urlsafe(48))'",
                id="platforms.W001",
            )
        )
    return problems


def _resolves_to(path: str, view_name: str) -> bool:
    try:
        match = resolve(path)
    except Resolver404:
        return False
    view_class = getattr(match.func, "view_class", None) or getattr(
        match.func, "cls", None
    )
    return getattr(view_class, "__name__", "") == view_name


@register(Tags.urls)
def check_urls_included(app_configs, **kwargs):
    """Report a URLconf without the sync API and webhook where peers call them."""
    if not apps.is_installed("webhooks"):
        return []  # check_installed_apps says so
    webhook = sync_settings.SYNC_WEBHOOK_URL
    if _resolves_to(webhook, "SyncWebhookView") and _resolves_to(
        "/api/platforms/", "PlatformViewSet"
    ):
        return []
    return [
        Error(
            f"The URLconf does not serve Moox Sync at /api/ and {webhook}.",
            hint='Add path("", include("webhooks.urls")) to your ROOT_URLCONF '
            "(step 2), at its root: other platforms call these paths.",
            id="platforms.E005",
        )
    ]


@register()
def check_schema_class(app_configs, **kwargs):
    """Report a DRF schema class with which /api/schema/ cannot be generated."""
    from rest_framework.settings import api_settings

    if issubclass(api_settings.DEFAULT_SCHEMA_CLASS, AutoSchema):
        return []
    return [
        Warning(
            "REST_FRAMEWORK['DEFAULT_SCHEMA_CLASS'] is not drf-spectacular's "
            "AutoSchema: Moox Sync's /api/schema/ and /api/docs/ cannot be built.",
            hint="Set REST_FRAMEWORK = {'DEFAULT_SCHEMA_CLASS': "
            "'drf_spectacular.openapi.AutoSchema', ...} (step 2).",
            id="platforms.W002",
        )
    ]


@register()
def check_celery_app(app_configs, **kwargs):
    """Report a site without a Celery app: nothing would deliver the changes."""
    # Celery's fallback app, made when no app was created, is called "default".
    if current_app.main != "default":
        return []
    return [
        Error(
            "No Celery app is loaded: Moox Sync's delivery tasks would go to "
            "Celery's fallback app, which no worker serves.",
            hint="Create your site's Celery app and import it in your project "
            "package's __init__.py, as Celery's Django guide shows (step 4).",
            id="platforms.E006",
        )
    ]
