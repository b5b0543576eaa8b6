"""Test settings: the project's settings with a fixed, non-secret key."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-not-a-secret")
os.environ.setdefault("SYNC_PLATFORM_DOMAIN", "a.test")
os.environ.setdefault("MOOXSYNC_DEMO", "true")

from mooxsync.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
