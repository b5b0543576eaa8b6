"""Writes on platforms and on the platforms a record belongs to."""

import logging
import socket
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction

from platforms.conf import sync_settings
from platforms.credentials import api_token_generate
from platforms.keys import (
    platform_key_issue,
    platform_keys_delivered,
    platform_keys_ensure,
    platform_keys_undelivered,
)
from platforms.models import Platform, PlatformRelation
from platforms.push import push_body
from platforms.selectors import platform_current
from platforms.signals import platform_relations_changed
from platforms.signing import secret_from_token
from platforms.transport import envelope_send

logger = logging.getLogger(__name__)


def platform_credentials_fill(*, platform: Platform) -> None:
    """Give a platform an API token where it has none (unsaved).

    Its signing key is issued by the master (platforms.keys).
    """
    if not platform.api_token:
        platform.api_token = api_token_generate()


def platform_token_regenerate(*, platform: Platform) -> Platform:
    """Replace a platform's API token with a new random one."""
    platform.api_token = api_token_generate()
    platform.save(update_fields=["api_token", "updated_at"])
    return platform


def _relations_of(record: models.Model):
    content_type = ContentType.objects.get_for_model(record, for_concrete_model=True)
    return PlatformRelation.objects.filter(
        content_type=content_type, object_id=str(record.pk)
    )


def platform_relations_get(*, record: models.Model) -> models.QuerySet[Platform]:
    """Return the platforms a record belongs to."""
    return Platform.objects.filter(pk__in=_relations_of(record).values("platform_id"))


def platform_relations_has(*, record: models.Model, platform: Platform) -> bool:
    """Tell whether a record belongs to a platform."""
    return _relations_of(record).filter(platform=platform).exists()


def _relations_add(record: models.Model, platforms) -> None:
    content_type = ContentType.objects.get_for_model(record, for_concrete_model=True)
    PlatformRelation.objects.bulk_create(
        [
            PlatformRelation(
                content_type=content_type, object_id=str(record.pk), platform=p
            )
            for p in platforms
        ],
        ignore_conflicts=True,
    )


def _relations_changed(record: models.Model) -> None:
    platform_relations_changed.send(sender=type(record), record=record)


@transaction.atomic
def platform_relations_add(*, record: models.Model, platforms) -> None:
    """Add platforms to the ones a record belongs to."""
    _relations_add(record, platforms)
    _relations_changed(record)


@transaction.atomic
def platform_relations_remove(*, record: models.Model, platforms) -> None:
    """Remove platforms from the ones a record belongs to."""
    _relations_of(record).filter(platform__in=list(platforms)).delete()
    _relations_changed(record)


@transaction.atomic
def platform_relations_set(*, record: models.Model, platforms) -> None:
    """Make a record belong to exactly these platforms."""
    platforms = list(platforms)
    _relations_of(record).exclude(platform__in=platforms).delete()
    _relations_add(record, platforms)
    _relations_changed(record)


def platform_ip_resolve(*, platform: Platform) -> str | None:
    """Store the IP address the platform's host resolves to (unsaved) and return it.

    Prefer IPv4, then IPv6; return None when the host has neither kind of address.
    Raise OSError (socket.gaierror) when the host does not resolve at all.
    """
    infos = socket.getaddrinfo(platform.host, None, proto=socket.IPPROTO_TCP)
    for family in (socket.AF_INET, socket.AF_INET6):
        for info_family, _type, _proto, _name, sockaddr in infos:
            if info_family == family:
                # A link-local IPv6 address carries "%scope", which is no IP field.
                platform.ip_address = sockaddr[0].split("%", 1)[0]
                return platform.ip_address
    return None


@transaction.atomic
def platform_install(
    *, domain: str, name: str, scheme: str, master: bool
) -> tuple[Platform, bool]:
    """Create this platform's row with new credentials, or return the existing one.

    Return the platform and whether it was created; an existing row is left
    untouched. Raise ValidationError for an invalid row (a malformed domain, a
    name in use, a second master).
    """
    domain = domain.lower()
    existing = Platform.objects.filter(domain=domain).first()
    if existing is not None:
        return existing, False
    platform = Platform(domain=domain, name=name, scheme=scheme, master=master)
    platform_credentials_fill(platform=platform)
    platform.full_clean()
    platform.save()
    if master:  # the master issues keys, its own first
        platform_key_issue(platform=platform)
    return platform, True


class PlatformPushError(Exception):
    """The platform list cannot be pushed from here (not the master)."""


@dataclass(frozen=True)
class PushOutcome:
    """What one platform answered to the master's push of the platform list."""

    domain: str
    ok: bool
    detail: str
    answer: dict


def _counts(answer: dict, kinds: tuple[str, ...]) -> str:
    return ", ".join(f"{len(answer.get(kind) or [])} {kind}" for kind in kinds)


def _push_detail(answer: dict) -> str:
    detail = _counts(answer, ("created", "updated", "deleted"))
    if kept := answer.get("kept") or []:
        detail += f"; kept {', '.join(kept)} (still in use there)"
    # The syncs its part of the push changed there (a receiver of a version
    # without it says nothing), when they changed.
    syncs = answer.get("syncs")
    if isinstance(syncs, dict) and any(syncs.values()):
        detail += "; syncs: " + _counts(syncs, ("created", "updated", "deleted"))
        if skipped := syncs.get("skipped") or []:
            detail += f"; skipped {'; '.join(map(str, skipped))}"
    return detail


def platforms_push_all() -> list[PushOutcome]:
    """Push every platform row to every other platform (SyncPlatformJob).

    Run on the master only; raise PlatformPushError elsewhere. First every
    platform without a signing key gets one. Each target gets the complete
    list with the public keys their platforms hold and its own private keys
    (platforms.push.push_rows), and what other apps add (its syncs), signed with the
    master's keys and, while SYNC_TOKEN is set, with the cluster's bootstrap
    secret too, so a platform that has not joined yet can verify its first
    push. The master forgets the private keys a target says it holds (a target
    of the shared-secret scheme says none: its keys wait until it upgrades).
    Return one outcome per target.
    """
    source = platform_current()
    if source is None:
        raise PlatformPushError(
            f"This platform ({sync_settings.SYNC_PLATFORM_DOMAIN}) has no Platform "
            "row; run manage.py mooxsync_install."
        )
    if not source.master:
        raise PlatformPushError(
            f"This platform ({source.domain}) is not the master; only the master "
            "pushes the platform list."
        )
    platform_keys_ensure()
    bootstrap = (
        [secret_from_token(sync_settings.SYNC_TOKEN)]
        if sync_settings.SYNC_TOKEN
        else []
    )
    outcomes = []
    targets = Platform.objects.exclude(pk=source.pk).order_by("order", "name")
    # Platforms taking a new key first: the bodies built after theirs carry
    # its public half, so one push spreads a rotation to everybody.
    undelivered = {t.pk: platform_keys_undelivered(t) for t in targets}
    for target in sorted(targets, key=lambda t: not undelivered[t.pk]):
        delivering = undelivered[target.pk]
        body = push_body(source=source, target=target)
        result = envelope_send(
            source=source, target=target, body=body, also_signed_with=bootstrap
        )
        detail = _push_detail(result.answer) if result.ok else result.error
        if result.ok:
            held = result.answer.get("held_keys")
            listed = held if isinstance(held, list) else []
            taken = [key for key in delivering if key in listed]
            platform_keys_delivered(platform=target, public_keys=taken)
        else:
            logger.warning("Pushing the platform list failed: %s", detail)
        outcomes.append(PushOutcome(target.domain, result.ok, detail, result.answer))
    return outcomes
