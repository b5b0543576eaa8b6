"""System checks for the platform settings."""

from django.conf import settings
from django.core.checks import Error, Warning, register

from platforms.models import domain_validator


@register()
def check_platform_settings(app_configs, **kwargs):
    """Report a malformed SYNC_PLATFORM_DOMAIN or SYNC_WEBHOOK_URL."""
    problems = []
    try:
        domain_validator(settings.SYNC_PLATFORM_DOMAIN)
    except Exception:
        problems.append(
            Error(
                f"SYNC_PLATFORM_DOMAIN={settings.SYNC_PLATFORM_DOMAIN!r} is not a "
                "host name with an optional port.",
                hint="Set it to this platform's domain, e.g. sync.example.com:8000.",
                id="platforms.E001",
            )
        )
    if not settings.SYNC_WEBHOOK_URL.startswith("/"):
        problems.append(
            Error(
                "SYNC_WEBHOOK_URL must be a path starting with '/'.",
                id="platforms.E002",
            )
        )
    if settings.SYNC_TOKEN and len(settings.SYNC_TOKEN) < 32:
        problems.append(
            Warning(
                "SYNC_TOKEN is shorter than 32 characters.",
                hint="Use a long random value: python -c "
                "'import secrets; print(secrets.token_urlsafe(48))'",
                id="platforms.W001",
            )
        )
    return problems
