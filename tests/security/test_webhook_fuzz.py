"""Generated hostile webhook requests: always a JSON 4xx, never a write."""

import json

import pytest
from django.contrib.auth.models import Group, User
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from platforms.conf import sync_settings
from tests.factories import PlatformFactory, SyncFactory
from tests.webhooks.signed import envelope, user_event, webhook_post
from webhooks.models import InboxEvent

pytestmark = pytest.mark.django_db

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)
SQLISH = st.sampled_from(
    [
        "id; DROP TABLE auth_user",
        "username' OR '1'='1",
        'email" --',
        "groups)); DELETE FROM auth_user; --",
        "password/**/",
    ]
)


@pytest.fixture
def sender(settings):
    source = PlatformFactory(name="B", domain="b.test")
    here = PlatformFactory(name="A", domain=sync_settings.SYNC_PLATFORM_DOMAIN)
    SyncFactory(source_platform=source, target_platform=here)
    return source


def _counts() -> tuple[int, int, int]:
    return InboxEvent.objects.count(), User.objects.count(), Group.objects.count()


def _assert_refused(answer, before) -> None:
    assert 400 <= answer.status_code < 500, answer.content[:300]
    body = answer.json()
    assert body["error"] and body["detail"]
    assert _counts() == before


@given(body=JSON)
@FUZZ
def test_garbage_json_with_a_valid_signature_is_refused(client, sender, body):
    before = _counts()
    answer = webhook_post(client, json.dumps(body).encode(), sender=sender)
    _assert_refused(answer, before)


@given(raw=st.binary(max_size=300))
@FUZZ
def test_garbage_bytes_with_a_valid_signature_are_refused(client, sender, raw):
    before = _counts()
    _assert_refused(webhook_post(client, raw, sender=sender), before)


@given(signature=st.text(max_size=120), timestamp=st.text(max_size=20))
@FUZZ
def test_valid_body_with_garbage_signature_is_refused(
    client, sender, signature, timestamp
):
    before = _counts()
    body = envelope(sender.domain, [user_event("mallory")])
    headers = {"webhook-signature": signature, "webhook-timestamp": timestamp}
    answer = webhook_post(client, body, sender=sender, headers=headers)
    _assert_refused(answer, before)
    assert answer.status_code == 401


@given(field=SQLISH, value=JSON)
@FUZZ
def test_field_names_that_look_like_sql_are_refused(client, sender, field, value):
    before = _counts()
    event = user_event("mallory")
    event["data"][field] = value
    answer = webhook_post(client, envelope(sender.domain, [event]), sender=sender)
    _assert_refused(answer, before)
    assert User.objects.filter(username="mallory").count() == 0


@given(
    version=st.integers(min_value=2**63, max_value=10**400) | st.integers(max_value=0)
)
@FUZZ
def test_huge_or_negative_versions_are_refused(client, sender, version):
    before = _counts()
    body = envelope(sender.domain, [user_event("mallory", version=version)])
    _assert_refused(webhook_post(client, body, sender=sender), before)


@pytest.mark.parametrize("depth", [40, 500, 5000])
def test_deeply_nested_json_is_refused(client, sender, depth):
    before = _counts()
    event = user_event("mallory")
    event["data"]["first_name"] = "X"
    body = envelope(sender.domain, [event]).replace(
        b'"X"', b"[" * depth + b"1" + b"]" * depth
    )
    _assert_refused(webhook_post(client, body, sender=sender), before)


def test_invalid_utf8_is_refused(client, sender):
    before = _counts()
    body = envelope(sender.domain, [user_event("mallory")]).replace(
        b"mallory", b"mal\xff\xfelory"
    )
    _assert_refused(webhook_post(client, body, sender=sender), before)


def test_oversized_body_is_refused_before_it_is_read(client, sender, settings):
    settings.SYNC_WEBHOOK_MAX_BODY_BYTES = 1000
    before = _counts()
    event = user_event("mallory")
    event["data"]["first_name"] = "x" * 2000
    answer = webhook_post(client, envelope(sender.domain, [event]), sender=sender)
    _assert_refused(answer, before)
    assert answer.status_code == 413


# --- valid signatures, malformed events --------------------------------------------

NUMBER_LITERALS = st.one_of(
    st.sampled_from(["1e400", "-1e999", "1e-400", "-0.0", "1e308", "4.9e-324"]),
    st.builds(
        "{}e{}".format,
        st.integers(min_value=-(10**6), max_value=10**6),
        st.integers(min_value=-1000, max_value=1000),
    ),
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
)
FIELDS = ["id", "version", "type", "model", "source_model", "key", "data"]
ODD_VALUES = JSON | st.integers(min_value=2**62, max_value=10**30) | SQLISH


@st.composite
def malformed_batches(draw) -> tuple[bytes, int]:
    """A batch of valid events with a few broken: wrong values, repeated ids,
    missing fields, number literals no float holds. Returns (body, size)."""
    events = [user_event(f"user{n}") for n in range(draw(st.integers(1, 4)))]
    for _ in range(draw(st.integers(1, 3))):
        event = draw(st.sampled_from(events))
        breakage = draw(st.sampled_from(["value", "drop", "repeat", "number", "key"]))
        name = draw(st.sampled_from(FIELDS))
        if breakage == "value":
            event[name] = draw(ODD_VALUES)
        elif breakage == "drop":
            event.pop(name, None)
        elif breakage == "repeat":
            event["id"] = draw(st.sampled_from(events)).get("id", "x")
        elif breakage == "number":
            event["data"] = {"first_name": "NUMBER"}
        else:
            event["key"] = draw(
                st.integers(min_value=2**63, max_value=10**30) | st.just([1, 2**64])
            )
    body = envelope("b.test", events)
    while b'"NUMBER"' in body:
        body = body.replace(b'"NUMBER"', draw(NUMBER_LITERALS).encode(), 1)
    return body, len(events)


@given(batch=malformed_batches())
@FUZZ
def test_malformed_events_with_a_valid_signature_store_all_or_nothing(
    client, sender, batch
):
    body, size = batch
    before = _counts()

    answer = webhook_post(client, body, sender=sender)

    if answer.status_code != 202:
        _assert_refused(answer, before)
        return
    counts = answer.json()
    # What the webhook counts as accepted is exactly what the inbox holds.
    assert counts["accepted"] + counts["duplicates"] == size
    assert InboxEvent.objects.count() == before[0] + counts["accepted"]
    ids = set(InboxEvent.objects.values_list("event_id", flat=True))
    assert {event["id"] for event in json.loads(body)["events"]} <= ids
