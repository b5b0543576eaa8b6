import sys
import types

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from tests.factories import SyncFactory

pytestmark = pytest.mark.django_db

CHANGELIST_URL = reverse("admin:syncs_sync_changelist")


def messages_of(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


def backup_module(monkeypatch, **functions) -> None:
    """Stand in for syncs.backup.services (written elsewhere) with these."""
    fake = types.ModuleType("syncs.backup.services")
    for name, function in functions.items():
        setattr(fake, name, function)
    monkeypatch.setitem(sys.modules, "syncs.backup.services", fake)


def sync_now(client, *syncs_):
    return client.post(
        CHANGELIST_URL,
        {"action": "sync_now", "_selected_action": [s.pk for s in syncs_]},
        follow=True,
    )


def test_sync_now_runs_a_backup_of_each_selected_sync(admin_client, monkeypatch):
    ran = []

    def sync_backup(*, sync, dry_run):
        ran.append((sync.pk, dry_run))
        return {"created": 2, "updated": 1, "deleted": ["k1"], "errors": []}

    backup_module(monkeypatch, sync_backup=sync_backup)
    first, second = SyncFactory(title="First"), SyncFactory(title="Second")
    SyncFactory(title="Not selected")
    response = sync_now(admin_client, first, second)
    assert sorted(ran) == sorted([(first.pk, False), (second.pk, False)])
    assert ("success", "First: created: 2, updated: 1, deleted: 1, errors: 0") in (
        messages_of(response)
    )


def test_sync_now_reports_errors_of_a_run_as_a_warning(admin_client, monkeypatch):
    backup_module(
        monkeypatch,
        sync_backup=lambda *, sync, dry_run: {"sent": 0, "errors": ["boom"]},
    )
    response = sync_now(admin_client, SyncFactory(title="S"))
    assert messages_of(response) == [("warning", "S: sent: 0, errors: boom")]


def test_sync_now_reports_a_failing_sync_and_goes_on(admin_client, monkeypatch):
    def sync_backup(*, sync, dry_run):
        if sync.title == "Bad":
            raise RuntimeError("target down")
        return {"sent": 1}

    backup_module(monkeypatch, sync_backup=sync_backup)
    response = sync_now(admin_client, SyncFactory(title="Bad"), SyncFactory(title="Ok"))
    assert sorted(messages_of(response)) == [
        ("error", "Bad failed: target down"),
        ("success", "Ok: sent: 1"),
    ]


def test_sync_now_without_the_backup_service_says_so(admin_client, monkeypatch):
    backup_module(monkeypatch)  # a module without sync_backup
    [(level, text)] = messages_of(sync_now(admin_client, SyncFactory()))
    assert level == "error"
    assert text.startswith(
        "Sync now is not available: the backup service "
        "(syncs.backup.services.sync_backup) could not be loaded:"
    )


def test_sync_now_without_the_backup_module_says_so(admin_client, monkeypatch):
    monkeypatch.setitem(sys.modules, "syncs.backup.services", None)  # import fails
    [(level, text)] = messages_of(sync_now(admin_client, SyncFactory()))
    assert level == "error"
    assert "could not be loaded" in text


def test_sync_now_shows_a_report_in_its_own_words(admin_client, monkeypatch):
    class Report:
        def as_text(self) -> str:
            return "Sync 1 (S): checked 3, created 1\n  sent 2 KB"

    backup_module(monkeypatch, sync_backup=lambda *, sync, dry_run: Report())
    response = sync_now(admin_client, SyncFactory(title="S"))
    assert messages_of(response) == [
        ("success", "Sync 1 (S): checked 3, created 1 sent 2 KB")
    ]


def test_sync_now_calls_the_real_backup_service(admin_client, current_platform):
    sync = SyncFactory(title="Elsewhere")  # sends from another platform
    [(level, text)] = messages_of(sync_now(admin_client, sync))
    assert level == "error"
    assert text.startswith("Elsewhere failed:")
    assert "TypeError" not in text  # the service takes sync= and dry_run=
