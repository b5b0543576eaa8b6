"""SyncApiJob: pull this platform's syncs from the master, refresh the local table.

A platform reads the syncs whose source or target it is from the master's
``/api/platforms/{id}/syncs/?role=any`` (ids differ per platform, so it first
finds its own row there by uuid, else by domain), upserts them here by the
sync's uuid with their platforms matched by uuid, else domain, and deletes
the local syncs of this platform the master no longer has. The listener
follows at once in this process (Sync save and delete signals) and within
SYNC_REGISTRY_TTL seconds in the others.
"""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from platforms.conf import sync_settings
from platforms.models import Platform
from platforms.selectors import platform_current, platform_master
from platforms.transport import ApiError, api_get
from syncs.models import Sync

# How a sync runs: its options (the admin shows them together, the API lists them).
SYNC_OPTIONS = (
    "use_platform_relations",
    "if_exists",
    "sync_ids",
    "sync_all_fields",
    "field_mappings",
    "use_transformer_class",
    "interval",
)
# What a sync is, as the master decides it. has_errors, error_message and
# last_sync describe how it runs here, so they stay local.
PULLED_FIELDS = ("status", "title", "source_model", "target_model", *SYNC_OPTIONS)


class PullError(Exception):
    """This platform cannot pull its syncs (no master, master unreachable...)."""


@dataclass
class PullReport:
    """What a pull changed, by sync title; skipped syncs say why."""

    master: str
    is_master: bool = False
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def changes(self) -> dict[str, list[str]]:
        """Return the sync titles by what happened to them."""
        return {
            "created": self.created,
            "updated": self.updated,
            "deleted": self.deleted,
            "skipped": self.skipped,
        }


def _results(answer: dict, url: str) -> list[dict]:
    results = answer.get("results")
    if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
        raise PullError(f"{url} did not answer with a page of results.")
    return results


def _own_id_on(master: Platform, own: Platform) -> int:
    """Return the id this platform's row has on the master."""
    for query in ({"uuid": str(own.uuid)}, {"domain": own.domain}):
        path = "/api/platforms/"
        answer = api_get(platform=master, path=path, token=own.api_token, params=query)
        if found := _results(answer, master.base_url + path):
            if not isinstance(platform_id := found[0].get("id"), int):
                raise PullError(f"{master.base_url}{path} named no platform id.")
            return platform_id
    raise PullError(
        f"The master {master.base_url} has no platform with uuid {own.uuid} or "
        f"domain {own.domain}: add this platform there, then run sync_platforms."
    )


def syncs_fetch(*, master: Platform, own: Platform) -> list[dict]:
    """Return every sync the master has whose source or target is ``own``."""
    path = f"/api/platforms/{_own_id_on(master, own)}/syncs/"
    found, page = [], 1
    while True:
        params = {"role": "any", "page": page}
        answer = api_get(platform=master, path=path, token=own.api_token, params=params)
        page_of = _results(answer, master.base_url + path)
        found += page_of
        if not (answer.get("next") and page_of):  # an empty page ends it too
            return found
        page += 1


class _Platforms:
    """Find the local row of a platform the master names: by uuid, else domain."""

    def __init__(self) -> None:
        rows = list(Platform.objects.all())
        self.by_uuid = {str(p.uuid): p for p in rows}
        self.by_domain = {p.domain: p for p in rows}

    def find(self, ref: dict) -> Platform:
        found = self.by_uuid.get(str(ref["uuid"])) or self.by_domain.get(
            str(ref["domain"]).lower()
        )
        if found is None:
            raise ValidationError(
                f"platform {ref['domain']} is not known here yet; run "
                "sync_platforms on the master first"
            )
        return found


def _sync_upsert(item: dict, platforms: _Platforms, report: PullReport) -> None:
    """Create or change the local copy of one of the master's syncs."""
    sync = Sync.objects.filter(uuid=item["uuid"]).first()
    values = {name: item[name] for name in PULLED_FIELDS} | {
        "source_platform_id": platforms.find(item["source_platform_ref"]).pk,
        "target_platform_id": platforms.find(item["target_platform_ref"]).pk,
    }
    if sync and all(getattr(sync, name) == value for name, value in values.items()):
        return
    created = sync is None
    sync = sync or Sync(uuid=item["uuid"])
    for name, value in values.items():
        setattr(sync, name, value)
    sync.full_clean()
    sync.save()
    (report.created if created else report.updated).append(str(sync))


@transaction.atomic
def syncs_refresh(*, own: Platform, remote: list[dict], master: str) -> PullReport:
    """Make the local syncs of ``own`` the master's ``remote`` syncs.

    A sync that cannot be stored here (a platform not pushed yet, a model not
    installed here) is skipped and its local copy, if any, left as it was.
    """
    report = PullReport(master=master)
    platforms = _Platforms()
    for item in remote:
        try:
            with transaction.atomic():
                _sync_upsert(item, platforms, report)
        except (KeyError, TypeError, ValueError, ValidationError) as exc:
            title = item.get("title") or item.get("uuid") or "?"
            report.skipped.append(f"{title}: {_reason(exc)}")
    listed = {str(item.get("uuid")) for item in remote}
    gone = Sync.objects.filter(Q(source_platform=own) | Q(target_platform=own))
    for sync in gone.exclude(uuid__in=[u for u in listed if _is_uuid(u)]):
        report.deleted.append(str(sync))
        sync.delete()  # one by one: the signal reloads the listener's syncs
    return report


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(exc.messages)
    if isinstance(exc, KeyError):
        return f"the master sent no {exc.args[0]!r}"
    return str(exc)


def _is_uuid(value: str) -> bool:
    try:
        Sync._meta.get_field("uuid").to_python(value)
    except ValidationError:
        return False
    return True


def syncs_pull() -> PullReport:
    """Pull this platform's syncs from the master and refresh them here.

    Raise PullError when this platform has no row or no API token, knows no
    master, or the master cannot be reached or refuses.
    """
    own = platform_current()
    if own is None:
        raise PullError(
            f"This platform ({sync_settings.SYNC_PLATFORM_DOMAIN}) has no Platform "
            "row; run manage.py mooxsync_install."
        )
    if own.master:
        return PullReport(master=own.domain, is_master=True)
    master = platform_master()
    if master is None:
        raise PullError(
            "No master is known here yet: run sync_platforms on the master, which "
            "pushes the platform list (and so the master) to every platform."
        )
    if not own.api_token:
        raise PullError(f"{own.domain} has no API token to call the master with.")
    try:
        remote = syncs_fetch(master=master, own=own)
    except ApiError as exc:
        raise PullError(f"Cannot read the syncs from the master: {exc}") from None
    return syncs_refresh(own=own, remote=remote, master=master.domain)
