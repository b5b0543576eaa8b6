"""System checks that tell a site which installation step it missed."""

import celery
import pytest
from django.core.checks import run_checks
from django.test import override_settings

from platforms.checks import (
    check_celery_app,
    check_installed_apps,
    check_platform_settings,
    check_schema_class,
    check_urls_included,
)
from platforms.conf import sync_settings

pytestmark = pytest.mark.django_db


def _ids(problems) -> set[str]:
    return {problem.id for problem in problems}


def test_a_complete_site_passes_every_check():
    assert not [
        p for p in run_checks(include_deployment_checks=False) if p.is_serious()
    ]


def test_missing_apps_are_named(settings):
    settings.INSTALLED_APPS = [
        app for app in settings.INSTALLED_APPS if app != "drf_spectacular"
    ]
    (problem,) = check_installed_apps(None)
    assert problem.id == "platforms.E003"
    assert "drf_spectacular" in problem.msg


def test_missing_platform_domain_names_the_setting(settings, monkeypatch):
    monkeypatch.delenv("SYNC_PLATFORM_DOMAIN", raising=False)
    del settings.SYNC_PLATFORM_DOMAIN
    sync_settings.reload()  # a deletion sends no setting_changed
    problems = check_platform_settings(None)
    assert _ids(problems) == {"platforms.E004"}
    assert "SYNC_PLATFORM_DOMAIN" in problems[0].msg


def test_platform_domain_may_come_from_the_environment(settings, monkeypatch):
    del settings.SYNC_PLATFORM_DOMAIN
    monkeypatch.setenv("SYNC_PLATFORM_DOMAIN", "shop.example.com")
    sync_settings.reload()
    assert check_platform_settings(None) == []


def test_malformed_platform_domain_is_an_error(settings):
    settings.SYNC_PLATFORM_DOMAIN = "not a host"
    assert _ids(check_platform_settings(None)) == {"platforms.E001"}


@override_settings(ROOT_URLCONF="tests.platforms.urls_without_sync")
def test_missing_url_include_is_named():
    (problem,) = check_urls_included(None)
    assert problem.id == "platforms.E005"
    assert 'include("webhooks.urls")' in problem.hint


def test_webhook_url_elsewhere_than_the_include_serves_is_named(settings):
    settings.SYNC_WEBHOOK_URL = "/another-hook"
    assert _ids(check_urls_included(None)) == {"platforms.E005"}


def test_no_celery_app_is_named(monkeypatch):
    fallback = celery.Celery("default", set_as_current=False)
    monkeypatch.setattr("platforms.checks.current_app", fallback)
    (problem,) = check_celery_app(None)
    assert problem.id == "platforms.E006"


def test_a_site_celery_app_passes():
    assert check_celery_app(None) == []


def test_a_schema_class_other_than_spectacular_is_named(settings):
    settings.REST_FRAMEWORK = {
        "DEFAULT_SCHEMA_CLASS": "rest_framework.schemas.openapi.AutoSchema"
    }
    (problem,) = check_schema_class(None)
    assert problem.id == "platforms.W002"
