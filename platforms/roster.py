"""The platform list the master pushes: its rows on the wire, applied on arrival.

The sender and the receiver share this module, so both sides agree on the
fields. A push is the complete list: a receiver upserts every row by uuid and
deletes the platforms the list no longer names, except its own row and rows
its syncs still use (they are kept until its syncs let go of them).
"""

import json
from dataclasses import asdict, dataclass, field

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import ProtectedError

from platforms.models import Platform

ROSTER_FIELDS = (
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


@dataclass
class RosterReport:
    """The domains a push created, changed, deleted, or kept though unlisted."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[str]]:
        return asdict(self)


def roster_rows() -> list[dict]:
    """Return every platform as a row of the push, credentials included."""
    rows = Platform.objects.order_by("pk").values(*ROSTER_FIELDS)
    return [row | {"uuid": str(row["uuid"])} for row in rows]


def roster_body(*, source: Platform) -> bytes:
    """Return the JSON body of the master's push of the platform list."""
    push = {"source": source.domain, "platforms": roster_rows()}
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


def _unlisted_remove(unlisted: list[Platform], report: RosterReport) -> None:
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
    # The list names the one master; a kept row cannot stay master beside it.
    Platform.objects.filter(domain__in=report.kept).update(master=False)


def _steps_aside(platform: Platform, row: dict) -> bool:
    return any(getattr(platform, name) != row[name] for name in UNIQUE_FIELDS)


def _write(platform: Platform | None, row: dict, report: RosterReport) -> None:
    if platform is None:
        Platform(**row).save()
        report.created.append(row["domain"])
    elif any(getattr(platform, name) != value for name, value in row.items()):
        for name, value in row.items():
            setattr(platform, name, value)
        platform.save()
        report.updated.append(row["domain"])


@transaction.atomic
def roster_apply(*, rows: list[dict]) -> RosterReport:
    """Make this platform's list of platforms the master's ``rows``.

    ``rows`` are validated rows of ROSTER_FIELDS (uuid a UUID, domain
    lowercased). Raise IntegrityError when a kept row holds a name or domain
    the list gives to another platform.
    """
    report = RosterReport()
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
    return report
