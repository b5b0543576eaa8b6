"""The sync admin shows each sync's initial fill and starts or retries it."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from syncs.models import OutboxEvent, SyncFill
from tests.factories import PlatformFactory, SyncFactory, outbox_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def changelist(admin_client):
    def get() -> str:
        return admin_client.get(reverse("admin:syncs_sync_changelist")).content.decode()

    return get


@pytest.fixture
def sync(current_platform):
    return SyncFactory(
        source_platform=current_platform,
        target_platform=PlatformFactory(domain="b.test"),
    )


def _state(sync, **fields) -> SyncFill:
    SyncFill.objects.filter(pk=sync.pk).update(**fields)
    return SyncFill.objects.get(pk=sync.pk)


def test_a_running_fill_shows_a_progress_bar_with_rate_and_time_left(changelist, sync):
    _state(
        sync,
        total=4000,
        delivered=1000,
        started_at=timezone.now() - timedelta(seconds=1000),
    )

    html = changelist()

    assert '<progress value="25" max="100"' in html
    # 3,000 records left at 1/s: 50 minutes, and 3 s for each second this took.
    assert re.search(r"1,000 of 4,000, 1/s, 0:50:0\d left", html)


def test_a_finished_fill_says_when_and_how_many(changelist, sync):
    _state(sync, status="done", queued=1234, finished_at=timezone.now())

    assert "done " in changelist() and ": 1,234 records" in changelist()


def test_a_failed_fill_says_why(changelist, sync):
    _state(sync, status="failed", error="3 records were not delivered; boom")

    assert "failed: 3 records were not delivered; boom" in changelist()


def test_a_sync_without_a_fill_and_one_sent_elsewhere_say_so(
    changelist, sync, current_platform
):
    SyncFill.objects.all().delete()
    elsewhere = PlatformFactory(domain="c.test")
    SyncFactory(source_platform=elsewhere, target_platform=current_platform)

    html = changelist()

    assert "not started" in html
    assert "runs on" in html and "c.test" in html


def test_the_retry_action_sends_the_refused_rows_again(admin_client, sync):
    fill = _state(sync, status="failed", first_outbox_pk=1, error="refused")
    row = outbox_event(
        sync, ["x"], event_type="created", status=OutboxEvent.Status.DEAD
    )
    assert row.pk >= fill.first_outbox_pk

    response = admin_client.post(
        reverse("admin:syncs_sync_changelist"),
        {"action": "fill_retry_failed", "_selected_action": [sync.pk]},
        follow=True,
    )

    assert "the fill goes on; 1 records sent again" in response.content.decode()
    assert SyncFill.objects.get(pk=sync.pk).status == SyncFill.Status.RUNNING
    row.refresh_from_db()
    assert row.status == OutboxEvent.Status.PENDING


def test_the_fill_again_action_restarts_from_the_first_record(admin_client, sync):
    _state(sync, status="done", queued=50, after="50")

    response = admin_client.post(
        reverse("admin:syncs_sync_changelist"),
        {"action": "fill_again", "_selected_action": [sync.pk]},
        follow=True,
    )

    assert "Fill started" in response.content.decode()
    fill = SyncFill.objects.get(pk=sync.pk)
    assert (fill.status, fill.queued, fill.after) == ("running", 0, "")


def test_filling_a_sync_sent_from_elsewhere_is_refused_clearly(
    admin_client, current_platform
):
    other = SyncFactory(target_platform=current_platform)

    response = admin_client.post(
        reverse("admin:syncs_sync_changelist"),
        {"action": "fill_again", "_selected_action": [other.pk]},
        follow=True,
    )

    assert "does not send from this platform" in response.content.decode()
    assert not SyncFill.objects.exists()


def test_the_fill_column_speaks_german(admin_client, sync):
    SyncFill.objects.all().delete()
    url = reverse("admin:syncs_sync_changelist")
    try:
        html = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    finally:
        translation.deactivate()

    assert "Erstbefüllung" in html and "nicht gestartet" in html
    assert "Fehlgeschlagene Befüllungen wiederholen" in html
