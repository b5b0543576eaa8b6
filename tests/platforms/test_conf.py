"""Moox Sync's settings: the site's value, else the environment's, else a default."""

from pathlib import Path

import pytest

from platforms.conf import DEFAULTS, sync_settings


@pytest.fixture(autouse=True)
def _fresh_settings():
    sync_settings.reload()
    yield
    sync_settings.reload()


def test_a_site_setting_wins_over_the_environment(settings, monkeypatch):
    monkeypatch.setenv("SYNC_BATCH_SIZE", "7")
    settings.SYNC_BATCH_SIZE = 3
    assert sync_settings.SYNC_BATCH_SIZE == 3


def test_the_environment_fills_a_setting_the_site_leaves_out(settings, monkeypatch):
    del settings.SYNC_BATCH_SIZE
    monkeypatch.setenv("SYNC_BATCH_SIZE", "7")
    monkeypatch.setenv("SYNC_WEBHOOK_ENABLED", "false")
    monkeypatch.setenv("SYNC_MODELS_EXCLUDED", "a.B,c.D")
    monkeypatch.setenv("SYNC_BINDINGS", "auth.User=site.handlers.UserHandler")
    sync_settings.reload()
    assert sync_settings.SYNC_BATCH_SIZE == 7
    assert sync_settings.SYNC_WEBHOOK_ENABLED is False
    assert sync_settings.SYNC_MODELS_EXCLUDED == ["a.B", "c.D"]
    assert sync_settings.SYNC_BINDINGS == {"auth.User": "site.handlers.UserHandler"}


def test_every_setting_has_a_default_of_its_type(monkeypatch):
    for name, (kind, default) in DEFAULTS.items():
        monkeypatch.delenv(name, raising=False)
        assert isinstance(default, kind), name


def test_defaults_apply_when_neither_site_nor_environment_sets_them(monkeypatch):
    monkeypatch.delenv("SYNC_HTTP_TIMEOUT", raising=False)
    monkeypatch.delenv("FILE_SYNC_TEMP_DIR", raising=False)
    assert sync_settings.SYNC_HTTP_TIMEOUT == 10.0
    assert isinstance(sync_settings.FILE_SYNC_TEMP_DIR, Path)


def test_an_overridden_setting_is_read_again(settings):
    settings.SYNC_REGISTRY_TTL = 1.5
    assert sync_settings.SYNC_REGISTRY_TTL == 1.5
    settings.SYNC_REGISTRY_TTL = 9.0
    assert sync_settings.SYNC_REGISTRY_TTL == 9.0


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no setting 'SYNC_NOPE'"):
        sync_settings.SYNC_NOPE  # noqa: B018
