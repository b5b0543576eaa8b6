"""Settings for Moox Sync for Django, read once from the environment.

Every value comes from an environment variable (or an optional ``.env`` file
beside ``manage.py``) through django-environ; ``.env.example`` documents each.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# Everything the embedded defaults write (SQLite, broker folders, media) lives
# here, so one folder per platform is enough to run several side by side.
VAR_DIR = Path(env("MOOXSYNC_VAR_DIR", default=str(BASE_DIR / "var")))

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it in the environment or in .env "
            "(a development default is used only when DEBUG=true)."
        )
    SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "platforms",
    "syncs",
    "webhooks",
    # Example content (documents with files) for the demo and the tests.
    "demoapp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "mooxsync.urls"
WSGI_APPLICATION = "mooxsync.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web and worker processes share the file: wait for locks instead of
    # failing, and take the write lock up front so transactions don't deadlock.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": ("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"),
        }
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend, plus the outbox's insert riding with COMMIT's round
    # trip instead of taking one of its own (mooxsync/db/postgresql/base.py).
    DATABASES["default"]["ENGINE"] = "mooxsync.db.postgresql"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = env("LANGUAGE_CODE", default="en-us")
LANGUAGES = [("en", "English"), ("de", "Deutsch")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(VAR_DIR / "static")))
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(VAR_DIR / "media")))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "platforms.authentication.PlatformTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["platforms.permissions.IsPlatformOrAdmin"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": env.int("API_PAGE_SIZE", default=50),
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "mooxsync.api_errors.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Moox Sync for Django API",
    "DESCRIPTION": "Platforms, syncs and the models this platform offers.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["platforms.permissions.IsPlatformOrAdmin"],
}

# --- Celery -----------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://localhost//")
_broker_folder = Path(env("CELERY_BROKER_FOLDER", default=str(VAR_DIR / "broker")))
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "data_folder_in": str(_broker_folder / "queue"),
        "data_folder_out": str(_broker_folder / "queue"),
        "processed_folder": str(_broker_folder / "processed"),
        "control_folder": str(_broker_folder / "control"),
        "store_processed": False,
        # The filesystem transport polls its folder; poll often enough that a
        # change crosses two platforms in well under a second.
        "polling_interval": env.float("CELERY_BROKER_POLLING_INTERVAL", default=0.05),
    }
    if CELERY_BROKER_URL.startswith("filesystem")
    else {}
)
# The embedded defaults write under VAR_DIR: make sure their folders exist.
for _folder in (
    CELERY_BROKER_TRANSPORT_OPTIONS.get("data_folder_in", ""),
    VAR_DIR,
    STATIC_ROOT,
):
    if _folder:
        Path(_folder).mkdir(parents=True, exist_ok=True)
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_TIMEOUT", default=3.0)
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE

# --- Moox Sync --------------------------------------------------------------
# Which Platform row is this instance (host, optionally with port).
SYNC_PLATFORM_DOMAIN = env("SYNC_PLATFORM_DOMAIN", default="localhost")
# Shared secret of the cluster: signs the master's first contact with a new
# platform before per-platform secrets are known.
SYNC_TOKEN = env("SYNC_TOKEN", default="")
SYNC_LISTENER_ENABLED = env.bool("SYNC_LISTENER_ENABLED", default=True)
SYNC_WEBHOOK_ENABLED = env.bool("SYNC_WEBHOOK_ENABLED", default=True)
SYNC_PLATFORM_JOB_ENABLED = env.bool("SYNC_PLATFORM_JOB_ENABLED", default=False)
SYNC_PLATFORM_JOB_FREQUENCY = env.int("SYNC_PLATFORM_JOB_FREQUENCY", default=300)
SYNC_BACKUP_JOB_ENABLED = env.bool("SYNC_BACKUP_JOB_ENABLED", default=False)
SYNC_BACKUP_JOB_FREQUENCY = env.int("SYNC_BACKUP_JOB_FREQUENCY", default=300)
# Seconds a backup waits for a target to digest its records (a full table scan).
SYNC_BACKUP_TIMEOUT = env.float("SYNC_BACKUP_TIMEOUT", default=300.0)
# Each platform pulls its syncs from the master (SyncApiJob).
SYNC_API_JOB_ENABLED = env.bool("SYNC_API_JOB_ENABLED", default=False)
SYNC_API_JOB_FREQUENCY = env.int("SYNC_API_JOB_FREQUENCY", default=300)
# Re-request delivery of pending outbox and inbox rows whose request was lost
# (e.g. the broker was down at commit time).
SYNC_RELAY_ENABLED = env.bool("SYNC_RELAY_ENABLED", default=True)
SYNC_RELAY_FREQUENCY = env.int("SYNC_RELAY_FREQUENCY", default=60)
# Delete delivered outbox rows and applied inbox rows older than this.
SYNC_PURGE_ENABLED = env.bool("SYNC_PURGE_ENABLED", default=True)
SYNC_PURGE_FREQUENCY = env.int("SYNC_PURGE_FREQUENCY", default=3600)
SYNC_PURGE_AFTER_DAYS = env.int("SYNC_PURGE_AFTER_DAYS", default=7)
SYNC_WEBHOOK_URL = env("SYNC_WEBHOOK_URL", default="/sync-webhook")
SYNC_WEBHOOK_MAX_BODY_BYTES = env.int(
    "SYNC_WEBHOOK_MAX_BODY_BYTES", default=5 * 1024 * 1024
)
SYNC_WEBHOOK_TOLERANCE_SECONDS = env.int("SYNC_WEBHOOK_TOLERANCE_SECONDS", default=300)
SYNC_BATCH_SIZE = env.int("SYNC_BATCH_SIZE", default=200)
SYNC_HTTP_TIMEOUT = env.float("SYNC_HTTP_TIMEOUT", default=10.0)
SYNC_MAX_ATTEMPTS = env.int("SYNC_MAX_ATTEMPTS", default=10)
# How long a queue stays with a worker that stopped renewing its lease (died).
SYNC_LEASE_SECONDS = env.int("SYNC_LEASE_SECONDS", default=120)
# Exponential backoff between delivery attempts: base * 2**attempt, capped,
# with jitter; a target's Retry-After wins when it gives one.
SYNC_RETRY_BASE_SECONDS = env.float("SYNC_RETRY_BASE_SECONDS", default=2.0)
SYNC_RETRY_MAX_SECONDS = env.float("SYNC_RETRY_MAX_SECONDS", default=600.0)
# Seconds a process keeps its list of active syncs before reading it again.
SYNC_REGISTRY_TTL = env.float("SYNC_REGISTRY_TTL", default=2.0)
SYNC_LOG_LEVEL = env("SYNC_LOG_LEVEL", default="INFO")

# Fields that identify a record across platforms when its model has no natural
# key; the first one that is unique on the model is used (Moox's list).
SYNC_UNIQUE_IDENTIFIER_FIELDS = env.list(
    "SYNC_UNIQUE_IDENTIFIER_FIELDS", default=["ulid", "uuid", "slug", "name", "title"]
)
# Models whose records carry platform relations ("app_label.ModelName").
SYNC_MODELS_WITH_PLATFORM_RELATIONS = env.list(
    "SYNC_MODELS_WITH_PLATFORM_RELATIONS", default=[]
)
# Model label -> dotted path of a transformer class (record -> dict).
SYNC_TRANSFORMER_BINDINGS = env.dict("SYNC_TRANSFORMER_BINDINGS", default={})
# Model label -> dotted path of a handler class with sync() and delete().
SYNC_BINDINGS = env.dict("SYNC_BINDINGS", default={})
# Models never offered for syncing by /api/models/ (bookkeeping tables).
SYNC_MODELS_EXCLUDED = env.list(
    "SYNC_MODELS_EXCLUDED",
    default=[
        "admin.LogEntry",
        "contenttypes.ContentType",
        "sessions.Session",
        "auth.Permission",
    ],
)

FILE_SYNC_ENABLED = env.bool("FILE_SYNC_ENABLED", default=False)
FILE_SYNC_ALLOWED_EXTENSIONS = env.list(
    "FILE_SYNC_ALLOWED_EXTENSIONS", default=["jpg", "jpeg", "png", "gif", "svg", "webp"]
)
FILE_SYNC_MAX_SIZE = env.int("FILE_SYNC_MAX_SIZE", default=2 * 1024 * 1024)
FILE_SYNC_CHUNK_SIZE = env.int("FILE_SYNC_CHUNK_SIZE", default=1024 * 1024)
FILE_SYNC_MAX_FILES_PER_RECORD = env.int("FILE_SYNC_MAX_FILES_PER_RECORD", default=10)
FILE_SYNC_FIELD_SEARCH = env.list(
    "FILE_SYNC_FIELD_SEARCH",
    default=[
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
)
# Model label -> dotted path of a resolver class that names its file fields.
FILE_SYNC_RESOLVERS = env.dict("FILE_SYNC_RESOLVERS", default={})
# Partial uploads from other platforms wait here, per sender and hash, so an
# interrupted transfer resumes; every web process of a platform must share it.
FILE_SYNC_TEMP_DIR = Path(env("FILE_SYNC_TEMP_DIR", default=str(VAR_DIR / "file-sync")))

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="WARNING")},
    "loggers": {
        app: {"level": SYNC_LOG_LEVEL, "handlers": ["console"], "propagate": False}
        for app in ("platforms", "syncs", "webhooks")
    },
}
