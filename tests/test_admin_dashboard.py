import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from syncs.chart import hourly_chart
from syncs.dashboard import hourly_counts, window_start
from syncs.models import OutboxEvent
from tests.factories import (
    PlatformFactory,
    SyncFactory,
    UserFactory,
    inbox_event,
    outbox_event,
)
from webhooks.dashboard import dashboard_read

pytestmark = pytest.mark.django_db

INDEX_URL = reverse("admin:index")


def figure(html: str, name: str) -> str:
    return re.search(rf'data-figure="{name}"[^>]*>([^<]*)<', html).group(1)


@pytest.fixture
def traffic(current_platform):
    """Syncs both ways with B, outbox and inbox rows of today and of last week."""
    b = PlatformFactory(name="B", domain="b.test")
    PlatformFactory(name="Silent", domain="c.test")
    out = SyncFactory(source_platform=current_platform, target_platform=b)
    back = SyncFactory(
        source_platform=b,
        target_platform=current_platform,
        has_errors=True,
        error_message="auth.User ['x'] exists already.",
        title="Back from B",
    )
    SyncFactory(source_platform=b, target_platform=b, status=False, target_model="a.B")
    delivered_at = timezone.now()
    outbox_event(out, ["ada"], status="delivered", delivered_at=delivered_at)
    outbox_event(out, ["ada"], status="delivered", delivered_at=delivered_at)
    outbox_event(out, ["ada"], status="dead", last_error="b.test answered 500")
    outbox_event(out, ["ada"])
    old = outbox_event(out, ["ada"], status="delivered", delivered_at=delivered_at)
    OutboxEvent.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(days=7)
    )
    inbox_event(back, ["ada"], version=1, status="applied")
    inbox_event(back, ["ada"], version=2, status="failed", error="boom")
    return {"b": b, "delivered_at": delivered_at}


def test_the_dashboard_shows_syncs_and_events_of_the_last_day(admin_client, traffic):
    html = admin_client.get(INDEX_URL).content.decode()
    assert "Sync dashboard" in html
    expected = {
        "syncs-active": "2",
        "syncs-failing": "1",
        "syncs-inactive": "1",
        "outbox-delivered": "2",  # the week-old delivery is not counted
        "outbox-pending": "1",
        "outbox-dead": "1",
        "outbox-failed": "0",
        "inbox-applied": "1",
        "inbox-failed": "1",
        "inbox-pending": "0",
    }
    assert {name: figure(html, name) for name in expected} == expected
    assert 'Back from B</a>: <span class="sync-error">auth.User' in html


def test_the_dashboard_draws_events_per_hour_as_svg(admin_client, traffic):
    html = admin_client.get(INDEX_URL).content.decode()
    svg = html[html.index('<svg class="sync-chart"') :]
    svg = svg[: svg.index("</svg>")]
    hour = timezone.localtime().strftime("%H:00")
    assert f"<title>{hour} sent: 4</title>" in svg
    assert f"<title>{hour} received: 2</title>" in svg
    assert '<desc id="sync-chart-desc">sent: 4, received: 2</desc>' in svg


def test_the_dashboard_tells_each_platforms_last_contact(admin_client, traffic):
    dashboard = dashboard_read()
    contacts = {c.platform.name: c for c in dashboard.platforms}
    assert set(contacts) == {"B", "Silent"}  # this platform itself is not listed
    assert contacts["B"].last_delivered == traffic["delivered_at"]
    assert contacts["B"].last_received is not None
    assert contacts["B"].last_contact == max(
        traffic["delivered_at"], contacts["B"].last_received
    )
    assert contacts["Silent"].last_contact is None
    html = admin_client.get(INDEX_URL).content.decode()
    table = html[html.index('id="sync-dashboard-platforms"') :]
    assert "never" in table[table.index("Silent") :]


def test_the_dashboard_needs_the_view_permission_on_syncs(client, traffic):
    clerk = UserFactory(is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_platform"))
    client.force_login(clerk)
    html = client.get(INDEX_URL).content.decode()
    assert "Sync dashboard" not in html
    assert "Platforms" in html  # the rest of the index still works


def test_hourly_counts_fall_into_their_hour():
    now = datetime(2025, 3, 1, 12, 30, tzinfo=UTC)
    start = window_start(now=now, hours=24)
    assert start == datetime(2025, 2, 28, 13, 0, tzinfo=UTC)
    sync = SyncFactory()
    for created in [now, now - timedelta(minutes=40), start, start - timedelta(1)]:
        row = outbox_event(sync, ["ada"])
        OutboxEvent.objects.filter(pk=row.pk).update(created_at=created)
    counts = hourly_counts(
        OutboxEvent.objects, field="created_at", start=start, hours=24
    )
    assert counts[0] == 1  # the start hour
    assert counts[22] == 1  # 11:50
    assert counts[23] == 1  # 12:30
    assert sum(counts) == 3  # the day before is outside the window


def test_the_chart_scales_bars_to_the_highest_count():
    start = datetime(2025, 3, 1, 0, 0, tzinfo=UTC)
    chart = hourly_chart(
        start=start, series=[("sent", "outbox", [0, 4]), ("received", "inbox", [2, 0])]
    )
    sent, received = chart.series
    assert chart.top_value == 4
    assert sent.bars[1].height == chart.plot_bottom - chart.plot_top
    assert received.bars[0].height == sent.bars[1].height / 2
    assert sent.bars[1].y + sent.bars[1].height == chart.plot_bottom
    assert (sent.total, received.total) == (4, 2)
    assert sent.bars[0].x < received.bars[0].x < sent.bars[1].x
