"""Signing keys: issued by the master, rotated with an overlap, used to sign.

The master issues every platform's Ed25519 key pair and pushes the public keys
to every platform, the private key only to its own platform (see
platforms.push); once that platform has taken the push, the master forgets
the private key. A platform signs with every active key it holds the private
half of, so during a rotation's overlap a peer that knows only the old key
verifies too.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from platforms.conf import sync_settings
from platforms.models import Platform, PlatformKey
from platforms.selectors import platform_current_is_master
from platforms.signing import key_pair_generate

# last_used_at is written at most this often per key: not on every request.
LAST_USED_RESOLUTION = timedelta(seconds=60)


@transaction.atomic
def platform_key_issue(
    *, platform: Platform, overlap_seconds: int | None = None
) -> PlatformKey:
    """Give a platform a new key; its older keys retire after the overlap.

    ``overlap_seconds`` defaults to SYNC_KEY_OVERLAP_SECONDS. The old keys keep
    verifying until then, so requests signed before every platform has the
    new public key are still accepted.
    """
    if overlap_seconds is None:
        overlap_seconds = sync_settings.SYNC_KEY_OVERLAP_SECONDS
    # Whole seconds: the times travel as JSON, which keeps milliseconds only,
    # and a push compares them with what the receivers hold.
    now = timezone.now().replace(microsecond=0)
    retires = now + timedelta(seconds=overlap_seconds)
    platform.keys.active(now).filter(retires_at=None).update(retires_at=retires)
    platform.keys.filter(retires_at__gt=retires).update(retires_at=retires)
    private_key, public_key = key_pair_generate()
    return PlatformKey.objects.create(
        platform=platform,
        public_key=public_key,
        private_key=private_key,
        created_at=now,
    )


def platform_key_first(*, platform: Platform) -> PlatformKey | None:
    """Give a new platform its key at once where this platform is the master.

    Elsewhere the master's next push brings it.
    """
    if not platform_current_is_master() or platform.keys.exists():
        return None
    return platform_key_issue(platform=platform)


def platform_keys_ensure() -> list[PlatformKey]:
    """Issue a key to every platform without an active one (on the master).

    Also deletes the keys that have retired: no platform accepts them any more.
    """
    now = timezone.now()
    PlatformKey.objects.filter(retires_at__lte=now).delete()
    keyless = Platform.objects.exclude(pk__in=PlatformKey.objects.values("platform"))
    return [platform_key_issue(platform=platform) for platform in keyless]


def platform_keys_undelivered(platform: Platform) -> list[str]:
    """Return the public keys whose private half the master still holds for
    ``platform`` (not for itself: those are its own)."""
    if platform.is_current:
        return []
    return list(
        platform.keys.exclude(private_key="").values_list("public_key", flat=True)
    )


def platform_keys_delivered(*, platform: Platform, public_keys: list[str]) -> None:
    """Forget the private halves of these keys: their platform has taken them."""
    platform.keys.filter(public_key__in=public_keys).update(private_key="")


def signing_keys(platform: Platform) -> list[str]:
    """Return the private keys a platform signs with here (its own, if any)."""
    return list(platform.keys.signing().values_list("private_key", flat=True))


def verifying_keys(platform: Platform) -> list[str]:
    """Return the public keys a request from ``platform`` may be signed with."""
    return list(platform.keys.active().values_list("public_key", flat=True))


def key_used(public_key: str) -> None:
    """Note that a request signed with ``public_key`` was accepted now."""
    now = timezone.now()
    key = PlatformKey.objects.filter(public_key=public_key)
    # A read first: most requests find it noted, and a write would queue
    # behind the inbox's (SQLite has one writer at a time).
    if not key.filter(last_used_at__gt=now - LAST_USED_RESOLUTION).exists():
        key.update(last_used_at=now)
