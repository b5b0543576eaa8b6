"""Moox Sync's settings, with a default for every one a site does not set.

Read a setting as ``sync_settings.SYNC_BATCH_SIZE``. Its value is, in order:
the site's Django setting of that name, the environment variable of that name
(parsed by django-environ: ``true``/``false``, numbers, comma-separated lists,
``key=value,...`` dicts), else the default below. Values are kept once read
and read again when a test overrides a setting (``setting_changed``), as DRF's
``api_settings`` does.
"""

from pathlib import Path
from tempfile import gettempdir

import environ
from django.conf import settings
from django.core.signals import setting_changed

# name: (type, default).
DEFAULTS: dict[str, tuple[type, object]] = {
    # Which Platform row is this site (host, optionally with port). Required.
    "SYNC_PLATFORM_DOMAIN": (str, ""),
    # Cluster secret that signs the master's first contact with a new platform.
    "SYNC_TOKEN": (str, ""),
    "SYNC_LISTENER_ENABLED": (bool, True),
    "SYNC_WEBHOOK_ENABLED": (bool, True),
    "SYNC_PLATFORM_JOB_ENABLED": (bool, False),
    "SYNC_PLATFORM_JOB_FREQUENCY": (int, 300),
    # The fallback for a push of the syncs that did not arrive; a no-op on the master.
    "SYNC_API_JOB_ENABLED": (bool, True),
    "SYNC_API_JOB_FREQUENCY": (int, 300),
    "SYNC_BACKUP_JOB_ENABLED": (bool, False),
    "SYNC_BACKUP_JOB_FREQUENCY": (int, 300),
    "SYNC_BACKUP_TIMEOUT": (float, 300.0),
    # Seconds one digest request walks the table before it answers a page.
    "SYNC_PAGE_SECONDS": (float, 10.0),
    "SYNC_RELAY_ENABLED": (bool, True),
    "SYNC_RELAY_FREQUENCY": (int, 60),
    "SYNC_PURGE_ENABLED": (bool, True),
    "SYNC_PURGE_FREQUENCY": (int, 3600),
    "SYNC_PURGE_AFTER_DAYS": (int, 7),
    "SYNC_WEBHOOK_URL": (str, "/sync-webhook"),
    "SYNC_WEBHOOK_MAX_BODY_BYTES": (int, 5 * 1024 * 1024),
    "SYNC_WEBHOOK_TOLERANCE_SECONDS": (int, 300),
    # Seconds a rotated signing key still verifies beside its successor.
    "SYNC_KEY_OVERLAP_SECONDS": (int, 86400),
    "SYNC_BATCH_SIZE": (int, 200),
    "SYNC_HTTP_TIMEOUT": (float, 10.0),
    "SYNC_MAX_ATTEMPTS": (int, 10),
    "SYNC_LEASE_SECONDS": (int, 120),
    "SYNC_RETRY_BASE_SECONDS": (float, 2.0),
    "SYNC_RETRY_MAX_SECONDS": (float, 600.0),
    "SYNC_REGISTRY_TTL": (float, 2.0),
    # Seconds after which a change whose saving process died between its
    # autocommit and the outbox write is sent anyway (see syncs.outbox).
    "SYNC_INTENT_TIMEOUT": (int, 60),
    "SYNC_UNIQUE_IDENTIFIER_FIELDS": (list, ["ulid", "uuid", "slug", "name", "title"]),
    "SYNC_MODELS_WITH_PLATFORM_RELATIONS": (list, []),
    "SYNC_TRANSFORMER_BINDINGS": (dict, {}),
    "SYNC_BINDINGS": (dict, {}),
    # Model label -> fields a sync writes on this platform only when its field
    # mappings name them (from the environment: names separated by ";").
    "SYNC_PRIVILEGED_FIELDS": (
        dict,
        {
            "auth.User": ["is_superuser", "is_staff", "user_permissions", "password"],
            "auth.Group": ["permissions"],
        },
    ),
    "SYNC_MODELS_EXCLUDED": (
        list,
        [
            "admin.LogEntry",
            "contenttypes.ContentType",
            "sessions.Session",
            "auth.Permission",
            "platforms.PlatformKey",
        ],
    ),
    "FILE_SYNC_ENABLED": (bool, False),
    "FILE_SYNC_ALLOWED_EXTENSIONS": (
        list,
        ["jpg", "jpeg", "png", "gif", "svg", "webp"],
    ),
    "FILE_SYNC_MAX_SIZE": (int, 2 * 1024 * 1024),
    "FILE_SYNC_CHUNK_SIZE": (int, 1024 * 1024),
    "FILE_SYNC_MAX_FILES_PER_RECORD": (int, 10),
    "FILE_SYNC_FIELD_SEARCH": (
        list,
        [
            "file",
            "image",
            "media",
            "attachment",
            "avatar",
            "logo",
            "thumbnail",
            "cover",
            "banner",
            "picture",
            "photo",
        ],
    ),
    "FILE_SYNC_RESOLVERS": (dict, {}),
    # Partial uploads from other platforms; every web process must share it.
    "FILE_SYNC_TEMP_DIR": (Path, Path(gettempdir()) / "mooxsync-file-sync"),
    # Seconds after its last chunk that an unfinished upload is deleted.
    "FILE_SYNC_PARTIAL_MAX_AGE": (int, 24 * 3600),
}

_env = environ.Env()


def _from_environment(name: str):
    kind, default = DEFAULTS[name]
    if kind is Path:
        return Path(_env.str(name, default=str(default)))
    return _env.get_value(name, cast=kind, default=default)


class SyncSettings:
    """The SYNC_* and FILE_SYNC_* settings, each with its default."""

    def __getattr__(self, name: str):
        if name not in DEFAULTS:
            raise AttributeError(f"Moox Sync has no setting {name!r}.")
        value = getattr(settings, name, _MISSING)
        if value is _MISSING:
            value = _from_environment(name)
        self.__dict__[name] = value  # kept: the listener reads some on every save
        return value

    def reload(self) -> None:
        """Forget the values read so far."""
        self.__dict__.clear()


_MISSING = object()
sync_settings = SyncSettings()


def _settings_reload(*, setting: str, **kwargs) -> None:
    if setting in DEFAULTS:
        sync_settings.reload()


setting_changed.connect(_settings_reload, dispatch_uid="mooxsync.settings_reload")
