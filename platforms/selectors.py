"""Named reads of platforms."""

from collections import defaultdict
from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType

from platforms.conf import sync_settings
from platforms.credentials import tokens_match
from platforms.models import Platform, PlatformRelation


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


def platform_current_is_master() -> bool:
    """Tell whether this platform is the master (it issues keys, pushes the list)."""
    current = platform_current()
    return current is not None and current.master


def platform_master() -> Platform | None:
    """Return the master platform, if this platform knows one."""
    return Platform.objects.filter(master=True).first()


def platform_domains_of(model, pks: Iterable) -> dict[str, list[str]]:
    """Return the sorted domains each record of ``model`` belongs to, by str(pk).

    Records related to no platform are left out.
    """
    content_type = ContentType.objects.get_for_model(model, for_concrete_model=True)
    relations = PlatformRelation.objects.filter(
        content_type=content_type, object_id__in=[str(pk) for pk in pks]
    ).values_list("object_id", "platform__domain")
    found: dict[str, list[str]] = defaultdict(list)
    for object_id, domain in relations.order_by("platform__domain"):
        found[object_id].append(domain)
    return found
