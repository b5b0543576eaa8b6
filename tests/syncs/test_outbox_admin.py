import pytest
from django.urls import reverse

from syncs.models import OutboxEvent
from tests.factories import SyncFactory

pytestmark = pytest.mark.django_db


def _row(sync, **fields):
    from django.utils import timezone

    return OutboxEvent.objects.create(
        sync=sync,
        target_platform=sync.target_platform,
        event_type="updated",
        object_pk="1",
        object_key=["ada"],
        next_attempt_at=timezone.now(),
        **fields,
    )


def test_outbox_changelist_filters_by_status_and_platform(admin_client):
    sync = SyncFactory()
    _row(sync, status="dead", last_error="boom")
    _row(sync, status="delivered")
    url = reverse("admin:syncs_outboxevent_changelist")
    page = admin_client.get(url, {"status__exact": "dead"})
    assert page.status_code == 200
    assert page.context["cl"].result_count == 1
    by_platform = admin_client.get(
        url, {"target_platform__id__exact": sync.target_platform_id}
    )
    assert by_platform.context["cl"].result_count == 2


def test_retry_now_requeues_dead_rows_but_not_delivered_ones(
    admin_client, django_capture_on_commit_callbacks
):
    sync = SyncFactory()
    dead = _row(sync, status="dead", attempts=10, last_error="boom")
    delivered = _row(sync, status="delivered", attempts=1)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        answer = admin_client.post(
            reverse("admin:syncs_outboxevent_changelist"),
            {"action": "retry_now", "_selected_action": [dead.pk, delivered.pk]},
            follow=True,
        )
    assert answer.status_code == 200
    dead.refresh_from_db()
    delivered.refresh_from_db()
    assert (dead.status, dead.attempts) == ("pending", 0)
    assert delivered.status == "delivered"
    assert len(callbacks) == 1  # one delivery request for the one target
    assert "1 event(s) queued for delivery again." in answer.content.decode()


def test_outbox_changelist_finds_a_row_by_the_event_id_a_target_shows(admin_client):
    sync = SyncFactory()
    wanted, _other = _row(sync), _row(sync)
    url = reverse("admin:syncs_outboxevent_changelist")

    page = admin_client.get(url, {"q": wanted.event_id})

    assert [row.pk for row in page.context["cl"].result_list] == [wanted.pk]
    detail = admin_client.get(
        reverse("admin:syncs_outboxevent_change", args=[wanted.pk])
    )
    assert wanted.event_id in detail.content.decode()
