from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from tests.factories import inbox_event
from webhooks.apply import inbox_apply_batch
from webhooks.models import InboxEvent
from webhooks.tasks import inbox_apply

pytestmark = pytest.mark.django_db

CHANGELIST_URL = reverse("admin:webhooks_inboxevent_changelist")
HASH = "pbkdf2_sha256$870000$salt$c2VjcmV0LWhhc2g="


def inbox_row(sync, number: int = 1, **fields) -> InboxEvent:
    data = {"username": "ada", "password": HASH}
    return inbox_event(sync, ["ada"], version=number, **({"data": data} | fields))


def detail_url(event: InboxEvent) -> str:
    return reverse("admin:webhooks_inboxevent_change", args=[event.pk])


def test_the_log_lists_platform_model_status_error_and_latency(admin_client, user_sync):
    event = inbox_row(user_sync, status="applied")
    InboxEvent.objects.filter(pk=event.pk).update(
        applied_at=event.received_at + timedelta(minutes=2, seconds=5)
    )
    inbox_row(user_sync, 2, status="failed", error="IntegrityError: duplicate")
    html = admin_client.get(CHANGELIST_URL).content.decode()
    assert '<td class="field-model_label">auth.User</td>' in html
    assert '<td class="field-source_platform nowrap">B</td>' in html
    assert '<td class="field-latency">2 min 5 s</td>' in html
    assert "IntegrityError: duplicate" in html


@pytest.mark.parametrize(
    ("params", "count"),
    [
        ({"status__exact": "failed"}, 1),
        ({"model_label": "auth.User"}, 2),
        ({"q": "duplicate"}, 1),
    ],
)
def test_the_log_filters_and_searches(admin_client, user_sync, params, count):
    inbox_row(user_sync, status="applied")
    inbox_row(user_sync, 2, status="failed", error="duplicate")
    response = admin_client.get(CHANGELIST_URL, params)
    assert response.context["cl"].result_count == count


def test_the_detail_shows_the_data_with_secrets_masked(admin_client, user_sync):
    event = inbox_row(
        user_sync,
        data={"username": "ada", "password": HASH, "profile": {"API_KEY": "k-123"}},
    )
    response = admin_client.get(detail_url(event))
    html = response.content.decode()
    assert response.status_code == 200
    assert "&quot;username&quot;: &quot;ada&quot;" in html
    assert "&quot;password&quot;: &quot;••••&quot;" in html
    assert "&quot;API_KEY&quot;: &quot;••••&quot;" in html
    assert HASH not in html
    assert "k-123" not in html


def test_retry_makes_failed_events_pending_and_asks_for_syncjob(
    admin_client, user_sync, django_capture_on_commit_callbacks
):
    failed = inbox_row(user_sync, status="failed", error="boom")
    applied = inbox_row(user_sync, 2, status="applied")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin_client.post(
            CHANGELIST_URL,
            {"action": "retry", "_selected_action": [failed.pk, applied.pk]},
            follow=True,
        )
    failed.refresh_from_db()
    applied.refresh_from_db()
    assert (failed.status, failed.error, failed.applied_at) == ("pending", "", None)
    assert applied.status == "applied"
    assert len(callbacks) == 1
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    assert shown == ["1 event(s) queued to be applied again."]


def test_retried_events_are_applied_again(
    admin_client, user_sync, django_capture_on_commit_callbacks, monkeypatch
):
    # SyncJob runs in this process instead of through the broker.
    monkeypatch.setattr(inbox_apply, "delay", lambda: inbox_apply_batch(size=10))
    event = inbox_row(
        user_sync,
        status="failed",
        error="boom",
        data={"username": "ada", "email": "ada@example.com"},
    )
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            CHANGELIST_URL, {"action": "retry", "_selected_action": [event.pk]}
        )
    event.refresh_from_db()
    assert (event.status, event.error) == ("applied", "")


def test_the_log_is_read_only(admin_client, user_sync):
    html = admin_client.get(detail_url(inbox_row(user_sync))).content.decode()
    assert 'name="_save"' not in html
    assert admin_client.get(reverse("admin:webhooks_inboxevent_add")).status_code == 403
