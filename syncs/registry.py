"""The listener's view of the active syncs whose source is this platform.

Each process keeps it for ``SYNC_REGISTRY_TTL`` seconds, so syncs created,
changed, disabled or deleted anywhere take effect without a restart; changes
made in this process take effect at once.
"""

import contextvars
import time
from contextlib import contextmanager
from dataclasses import dataclass

from platforms.conf import sync_settings
from syncs.identity import IdentityError, model_identifier_require
from syncs.models import Sync


@dataclass(frozen=True)
class SyncRoute:
    """What the listener needs to know of one sync."""

    sync_id: int
    target_platform_id: int
    identifier: str
    sync_ids: frozenset[str]
    uses_transformer: bool


_routes: dict[str, tuple[SyncRoute, ...]] = {}
_loaded_at: float = float("-inf")
# Off while migrations run: the syncs table may not exist yet.
_paused = False
# The platform whose change is being applied here: never send it back there.
_applying_from: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "applying_from", default=None
)


def registry_pause(**kwargs) -> None:
    """Stop listening (pre_migrate)."""
    global _paused
    _paused = True


def registry_resume(**kwargs) -> None:
    """Listen again and reload the syncs (post_migrate)."""
    global _paused
    _paused = False
    registry_invalidate()


def registry_invalidate() -> None:
    """Forget the cached syncs; the next lookup reloads them."""
    global _loaded_at
    _loaded_at = float("-inf")


def _registry_load() -> dict[str, tuple[SyncRoute, ...]]:
    routes: dict[str, list[SyncRoute]] = {}
    syncs = Sync.objects.filter(
        status=True, source_platform__domain=sync_settings.SYNC_PLATFORM_DOMAIN.lower()
    ).only(
        "pk", "source_model", "target_platform_id", "sync_ids", "use_transformer_class"
    )
    for sync in syncs:
        try:
            identifier = model_identifier_require(sync.source_model)
        except (LookupError, ValueError, IdentityError):
            continue  # checked when the sync is saved; skip rather than fail saves
        routes.setdefault(sync.source_model.lower(), []).append(
            SyncRoute(
                sync_id=sync.pk,
                target_platform_id=sync.target_platform_id,
                identifier=identifier,
                sync_ids=frozenset(str(i) for i in sync.sync_ids),
                uses_transformer=sync.use_transformer_class,
            )
        )
    return {label: tuple(found) for label, found in routes.items()}


def routes_for(label: str) -> tuple[SyncRoute, ...]:
    """Return the routes of the active syncs whose source model is ``label``."""
    global _routes, _loaded_at
    if _paused or not sync_settings.SYNC_LISTENER_ENABLED:
        return ()
    now = time.monotonic()
    if now - _loaded_at > sync_settings.SYNC_REGISTRY_TTL:
        _routes, _loaded_at = _registry_load(), now
    found = _routes.get(label, ())
    origin = _applying_from.get()
    if origin is not None and found:
        found = tuple(r for r in found if r.target_platform_id != origin)
    return found


@contextmanager
def applying_from(platform_id: int):
    """Mark changes made inside as coming from ``platform_id`` (loop guard)."""
    token = _applying_from.set(platform_id)
    try:
        yield
    finally:
        _applying_from.reset(token)
