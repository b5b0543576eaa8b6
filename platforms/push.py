"""The platform list the master pushes: its rows on the wire, applied on arrival.

The sender and the receiver share this module, so both sides agree on the
fields. A push is the complete list: a receiver upserts every row by uuid and
deletes the platforms the list no longer names, except its own row and rows
its syncs still use (they are kept until its syncs let go of them, with no
key: nobody may sign as them).

Each row carries the platform's active public keys, once that platform holds
their private halves; only the receiver's own row carries private keys, its
own. A receiver's keys of a platform become
exactly the listed ones (a private key it holds stays with its public key).
A push from a master that sends no keys (the shared-secret scheme) leaves the
keys alone.

Other apps add parts of their own to each body (``push_part_add``): the
syncs app adds the target's syncs, which this app knows nothing of.
"""

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import ProtectedError

from platforms.conf import sync_settings
from platforms.models import Platform, PlatformKey

PUSH_FIELDS = (
    "uuid",
    "name",
    "domain",
    "scheme",
    "ip_address",
    "master",
    "locked",
    "lock_reason",
    "show_in_menu",
    "order",
    "api_token",
    "signing_secret",
)
# Fields the database keeps unique: a row changing one of them steps aside
# first, so two platforms can swap names or domains in one push.
UNIQUE_FIELDS = ("name", "domain", "api_token", "master")
# Name in the body -> what builds it for one target (see push_part_add).
_parts: dict[str, Callable[[Platform], object]] = {}


def push_part_add(name: str, build: Callable[[Platform], object]) -> None:
    """Add ``build(target)``, a JSON value, to every push body under ``name``.

    Called from an app's ``ready()``: the receiving side of the part is that
    app's too.
    """
    _parts[name] = build


@dataclass
class PushRowsReport:
    """The domains a push created, changed, deleted, or kept though unlisted."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    # The public keys whose private halves the receiver holds: the master
    # forgets those (a receiver of the shared-secret scheme names none).
    held_keys: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[str]]:
        return asdict(self)


def _keys_by_platform(source: Platform, target: Platform) -> dict[int, list[dict]]:
    found: dict[int, list[dict]] = {}
    for key in PlatformKey.objects.active().order_by("created_at"):
        row = {
            "public_key": key.public_key,
            "created_at": key.created_at,
            "retires_at": key.retires_at,
        }
        if key.platform_id == target.pk:
            # Its own private keys, to the platform itself and nobody else.
            if key.private_key:
                row["private_key"] = key.private_key
        elif key.private_key and key.platform_id != source.pk:
            # Its platform does not hold it yet, so it does not sign with it:
            # a receiver knowing it would refuse that platform's requests.
            continue
        found.setdefault(key.platform_id, []).append(row)
    return found


def push_rows(*, source: Platform, target: Platform) -> list[dict]:
    """Return every platform as a row of ``source``'s push to ``target``.

    Each row carries the platform's keys that its platform holds, and the
    target's own row its private keys too.
    """
    keys = _keys_by_platform(source, target)
    rows = Platform.objects.order_by("pk").values("pk", *PUSH_FIELDS)
    return [
        row | {"uuid": str(row["uuid"]), "keys": keys.get(row.pop("pk"), [])}
        for row in rows
    ]


def push_body(*, source: Platform, target: Platform) -> bytes:
    """Return the JSON body of the master's push of the platform list to ``target``."""
    rows = push_rows(source=source, target=target)
    push = {"source": source.domain, "platforms": rows}
    push |= {name: build(target) for name, build in _parts.items()}
    return json.dumps(push, cls=DjangoJSONEncoder, separators=(",", ":")).encode()


def _pairs(rows: list[dict]) -> list[tuple[Platform | None, dict]]:
    """Pair each row with the platform it updates: same uuid, else same domain."""
    existing = list(Platform.objects.select_for_update())
    listed = {row["uuid"] for row in rows}
    by_uuid = {platform.uuid: platform for platform in existing}
    # A domain match adopts the master's uuid (a platform that installed itself
    # before it joined); a row whose own uuid is listed is never taken over.
    by_domain = {p.domain: p for p in existing if p.uuid not in listed}
    return [
        (by_uuid.get(row["uuid"]) or by_domain.pop(row["domain"], None), row)
        for row in rows
    ]


def _unlisted_remove(unlisted: list[Platform], report: PushRowsReport) -> None:
    for platform in unlisted:
        if not platform.is_current:
            try:
                with transaction.atomic():
                    platform.delete()
            except ProtectedError:
                pass  # syncs here still use it; the next push retries
            else:
                report.deleted.append(platform.domain)
                continue
        report.kept.append(platform.domain)
    # The list names the one master; a kept row cannot stay master beside it,
    # and nobody may sign as a platform the master no longer lists.
    Platform.objects.filter(domain__in=report.kept).update(master=False)
    PlatformKey.objects.filter(platform__domain__in=report.kept).exclude(
        platform__domain=sync_settings.SYNC_PLATFORM_DOMAIN.lower()
    ).delete()


def _steps_aside(platform: Platform, row: dict) -> bool:
    return any(getattr(platform, name) != row[name] for name in UNIQUE_FIELDS)


def _keys_write(platform: Platform, keys: list[dict]) -> bool:
    """Make the platform's keys the listed ones; tell whether any changed."""
    listed = {key["public_key"]: key for key in keys}
    gone = platform.keys.exclude(public_key__in=listed)
    changed = gone.delete()[0] > 0
    held = {key.public_key: key for key in platform.keys.all()}
    for public_key, row in listed.items():
        key = held.get(public_key) or PlatformKey(
            platform=platform, public_key=public_key, created_at=row["created_at"]
        )
        # Only its own private keys: the master sends no other, and none is kept.
        given = row.get("private_key", "") if platform.is_current else ""
        private_key = given or key.private_key
        if key.pk and (key.retires_at, key.private_key) == (
            row["retires_at"],
            private_key,
        ):
            continue
        key.retires_at, key.private_key = row["retires_at"], private_key
        key.save()
        changed = True
    return changed


def _write(platform: Platform | None, row: dict, report: PushRowsReport) -> None:
    keys = row.get("keys")
    fields = {name: row[name] for name in PUSH_FIELDS}
    if platform is None:
        platform = Platform(**fields)
        platform.save()
        report.created.append(row["domain"])
    elif any(getattr(platform, name) != value for name, value in fields.items()):
        for name, value in fields.items():
            setattr(platform, name, value)
        platform.save()
        report.updated.append(row["domain"])
    keys_changed = keys is not None and _keys_write(platform, keys)
    if keys_changed and row["domain"] not in report.created + report.updated:
        report.updated.append(row["domain"])


@transaction.atomic
def push_rows_apply(*, rows: list[dict]) -> PushRowsReport:
    """Make this platform's list of platforms the master's ``rows``.

    ``rows`` are validated rows of PUSH_FIELDS (uuid a UUID, domain
    lowercased). Raise IntegrityError when a kept row holds a name or domain
    the list gives to another platform.
    """
    report = PushRowsReport()
    pairs = _pairs(rows)
    matched = {platform.pk for platform, _row in pairs if platform}
    unlisted = Platform.objects.exclude(pk__in=matched).order_by("pk")
    _unlisted_remove(list(unlisted), report)
    for platform, row in pairs:
        if platform and _steps_aside(platform, row):
            Platform.objects.filter(pk=platform.pk).update(
                name=f"~{platform.uuid}",
                domain=f"~{platform.uuid}",
                api_token=None,
                master=False,
            )
    for platform, row in pairs:
        _write(platform, row, report)
    own = Platform.objects.filter(domain=sync_settings.SYNC_PLATFORM_DOMAIN.lower())
    report.held_keys = list(
        PlatformKey.objects.filter(platform__in=own)
        .exclude(private_key="")
        .values_list("public_key", flat=True)
    )
    return report
