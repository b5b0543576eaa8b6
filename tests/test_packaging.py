"""The wheel a site installs holds each app whole: code, data and licence."""

import zipfile

import pytest

from demo.cluster import ROOT
from harness.sites import wheel_build

APPS = ["platforms", "syncs", "webhooks"]


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory) -> set[str]:
    """Build the wheel (from a clean copy of the tree); name the files it holds."""
    wheel = wheel_build(tmp_path_factory.mktemp("packaging"))
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def source_files(app: str, pattern: str) -> set[str]:
    return {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / app).glob(pattern)
        if path.is_file() and "__pycache__" not in path.parts
    }


@pytest.mark.parametrize("app", APPS)
def test_the_wheel_holds_each_apps_migrations_templates_and_translations(
    app, wheel_names
):
    migrations = source_files(app, "migrations/*.py")
    templates = source_files(app, "templates/**/*.html")
    catalogs = source_files(app, "locale/*/LC_MESSAGES/django.mo")
    assert f"{app}/migrations/0001_initial.py" in migrations
    assert templates
    assert f"{app}/locale/de/LC_MESSAGES/django.mo" in catalogs
    assert migrations | templates | catalogs <= wheel_names


@pytest.mark.parametrize("app", ["platforms", "syncs"])
def test_the_wheel_holds_the_apps_static_files(app, wheel_names):
    static = source_files(app, "static/**/*")
    assert static
    assert static <= wheel_names


def test_the_wheel_carries_the_mit_license(wheel_names):
    assert "mooxsync-0.1.0.dist-info/licenses/LICENSE" in wheel_names


@pytest.mark.parametrize(
    "folder", ["tests/", "harness/", "bench/", "demo/", "demoapp/"]
)
def test_the_wheel_leaves_out_what_only_the_repository_needs(folder, wheel_names):
    assert not [name for name in wheel_names if name.startswith(folder)]
