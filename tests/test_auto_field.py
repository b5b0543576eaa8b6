"""The apps' ids do not follow the site's DEFAULT_AUTO_FIELD.

A site that never set DEFAULT_AUTO_FIELD runs on Django's AutoField; the apps'
migrations were made with 64-bit ids, so without their own default_auto_field
``makemigrations`` there would write new migrations into the installed apps.
"""

import subprocess
import sys

from demo.cluster import ROOT
from platforms.checks import REQUIRED_APPS

# A site with no DEFAULT_AUTO_FIELD at all, in a fresh process.
SITE = f"""
import django
from django.conf import settings

settings.configure(
    INSTALLED_APPS={REQUIRED_APPS!r},
    DATABASES={{
        "default": {{"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
    }},
)
django.setup()
from django.core.management import call_command

apps = ["platforms", "syncs", "webhooks"]
call_command("makemigrations", *apps, check=True, dry_run=True)
"""


def test_a_site_on_djangos_default_auto_field_needs_no_migrations_of_the_apps():
    done = subprocess.run(
        [sys.executable, "-c", SITE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "No changes detected" in done.stdout
