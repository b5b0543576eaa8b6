from datetime import timedelta

import pytest
from django.urls import reverse

from syncs.models import OutboxEvent
from tests.factories import PlatformFactory, SyncFactory, UserFactory, outbox_event

pytestmark = pytest.mark.django_db

CHANGELIST_URL = reverse("admin:syncs_outboxevent_changelist")


def detail_url(row: OutboxEvent) -> str:
    return reverse("admin:syncs_outboxevent_change", args=[row.pk])


def outbox_row(sync, record, **fields) -> OutboxEvent:
    key = list(record.natural_key())
    return outbox_event(sync, key, object_pk=str(record.pk), **fields)


@pytest.fixture
def users(db):
    """Users made before the sync, so the listener records none of them."""
    return [*UserFactory.create_batch(2), UserFactory(username="ada")]


@pytest.fixture
def user_sync(current_platform, users):
    target = PlatformFactory(name="B", domain="b.test")
    return SyncFactory(source_platform=current_platform, target_platform=target)


def test_the_log_lists_model_platform_attempts_error_and_latency(
    admin_client, user_sync, users
):
    row = outbox_row(user_sync, users[0], attempts=2)
    OutboxEvent.objects.filter(pk=row.pk).update(
        status="delivered", delivered_at=row.created_at + timedelta(seconds=1.5)
    )
    outbox_row(user_sync, users[1], status="dead", last_error="b.test said 500")
    html = admin_client.get(CHANGELIST_URL).content.decode()
    assert '<td class="field-model_label">auth.User</td>' in html
    assert '<td class="field-latency">1.50 s</td>' in html
    assert "b.test said 500" in html
    assert '<td class="field-attempts">2</td>' in html


@pytest.mark.parametrize(
    ("params", "count"),
    [
        ({"sync__source_model": "auth.User"}, 1),
        ({"sync__source_model": "auth.Group"}, 0),
        ({"status__exact": "dead"}, 1),
        ({"q": "refused"}, 1),
        ({"q": "auth.User"}, 1),
    ],
)
def test_the_log_filters_and_searches(admin_client, user_sync, users, params, count):
    outbox_row(user_sync, users[0], status="dead", last_error="refused")
    response = admin_client.get(CHANGELIST_URL, params)
    assert response.context["cl"].result_count == count


def test_the_log_orders_by_latency(admin_client, user_sync, users):
    slow, fast = outbox_row(user_sync, users[0]), outbox_row(user_sync, users[1])
    for row, seconds in [(slow, 30), (fast, 1)]:
        OutboxEvent.objects.filter(pk=row.pk).update(
            status="delivered", delivered_at=row.created_at + timedelta(seconds=seconds)
        )
    response = admin_client.get(CHANGELIST_URL, {"o": "10"})  # the latency column
    assert [r.pk for r in response.context["cl"].result_list] == [fast.pk, slow.pk]


def test_the_detail_shows_the_payload_with_secrets_masked(
    admin_client, user_sync, users
):
    user = users[2]
    row = outbox_row(user_sync, user)
    response = admin_client.get(detail_url(row))
    html = response.content.decode()
    assert response.status_code == 200
    assert "&quot;source&quot;: &quot;a.test&quot;" in html
    assert "&quot;username&quot;: &quot;ada&quot;" in html
    assert "&quot;password&quot;: &quot;••••&quot;" in html
    assert user.password not in html


def test_the_detail_masks_platform_tokens_and_secrets(admin_client, current_platform):
    target = PlatformFactory(domain="b.test")
    sync = SyncFactory(
        source_platform=current_platform,
        source_model="platforms.Platform",
        target_platform=target,
        target_model="platforms.Platform",
    )
    row = outbox_event(sync, target.name, object_pk=str(target.pk))
    html = admin_client.get(detail_url(row)).content.decode()
    assert "&quot;api_token&quot;: &quot;••••&quot;" in html
    assert "&quot;signing_secret&quot;: &quot;••••&quot;" in html
    assert target.api_token not in html
    assert target.signing_secret not in html


def test_the_detail_explains_a_payload_that_cannot_be_built(
    admin_client, user_sync, users
):
    row = outbox_row(user_sync, users[0])
    OutboxEvent.objects.filter(pk=row.pk).update(sync=None)
    html = admin_client.get(detail_url(row)).content.decode()
    assert (
        "The payload cannot be built: The sync of this event no longer exists." in html
    )


def test_the_log_is_read_only(admin_client, user_sync, users):
    row = outbox_row(user_sync, users[0])
    html = admin_client.get(detail_url(row)).content.decode()
    assert 'name="_save"' not in html
    assert admin_client.get(reverse("admin:syncs_outboxevent_add")).status_code == 403
