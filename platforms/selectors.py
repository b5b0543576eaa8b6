"""Named reads of platforms."""

from platforms.conf import sync_settings
from platforms.credentials import tokens_match
from platforms.models import Platform


def platform_current() -> Platform | None:
    """Return the Platform row this process runs as (SYNC_PLATFORM_DOMAIN)."""
    return Platform.objects.filter(
        domain=sync_settings.SYNC_PLATFORM_DOMAIN.lower()
    ).first()


def platform_by_token(token: str) -> Platform | None:
    """Return the platform whose API token is ``token``, compared in constant time."""
    found = None
    # Compare against every token so the time taken does not tell which matched.
    for platform in Platform.objects.exclude(api_token=None).only("pk", "api_token"):
        if tokens_match(token, platform.api_token):
            found = platform
    return Platform.objects.get(pk=found.pk) if found else None


def platform_master() -> Platform | None:
    """Return the master platform, if this platform knows one."""
    return Platform.objects.filter(master=True).first()
