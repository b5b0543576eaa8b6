"""SyncWebhook: who may write, what is accepted, and the answers it gives."""

import json
import socket
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import User

from platforms.conf import sync_settings
from platforms.credentials import signing_secret_generate
from platforms.transport import PLATFORM_HEADER
from syncs.models import WorkQueue
from syncs.payload import MAX_EVENTS
from tests.factories import PlatformFactory, SyncFactory
from tests.webhooks.signed import (
    envelope,
    old_timestamp,
    signed_headers,
    user_data,
    user_event,
    webhook_post,
)
from webhooks.inbox import INBOX_QUEUE
from webhooks.models import InboxEvent
from webhooks.tasks import inbox_apply

pytestmark = pytest.mark.django_db


def _post(client, source, events, **kwargs):
    return webhook_post(
        client, envelope(source.domain, events), sender=source, **kwargs
    )


def _assert_refused(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"error", "detail"}
    if code:
        assert body["error"] == code
    assert not InboxEvent.objects.exists()
    return body


# --- accepting ---------------------------------------------------------------


def test_valid_envelope_is_accepted_and_stored_in_the_inbox(
    client, source, user_sync, django_capture_on_commit_callbacks
):
    events = [user_event("alice", version=1), user_event("bob", version=2)]

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = _post(client, source, events)

    assert response.status_code == 202
    assert response.json() == {"accepted": 2, "duplicates": 0}
    rows = {row.event_id: row for row in InboxEvent.objects.all()}
    assert set(rows) == {events[0]["id"], events[1]["id"]}
    alice = rows[events[0]["id"]]
    assert alice.status == InboxEvent.Status.PENDING
    assert alice.source_platform == source
    assert alice.sync == user_sync
    assert alice.version == 1
    assert alice.model_label == "auth.User"
    assert alice.object_key == ["alice"]
    # The privileged fields are stored only when the sync's mapping names them.
    privileged = {"password", "is_staff", "is_superuser", "user_permissions"}
    sent = {k: v for k, v in events[0]["data"].items() if k not in privileged}
    assert alice.data == sent
    assert alice.should_delete is False
    assert len(callbacks) == 1  # SyncJob is asked for once the rows commit


def test_committed_events_ask_for_sync_job_once_per_burst(
    client, source, user_sync, django_capture_on_commit_callbacks, monkeypatch
):
    published = []
    monkeypatch.setattr(inbox_apply, "delay", lambda: published.append("inbox"))

    with django_capture_on_commit_callbacks(execute=True):
        _post(client, source, [user_event("alice")])
    with django_capture_on_commit_callbacks(execute=True):
        _post(client, source, [user_event("bob")])

    assert published == ["inbox"]  # the second waits for the same worker run
    assert WorkQueue.objects.get(name=INBOX_QUEUE).requested is True


def test_webhook_writes_no_record_itself(client, source, user_sync):
    _post(client, source, [user_event("alice")])

    assert not User.objects.filter(username="alice").exists()


def test_same_body_again_counts_duplicates_and_stores_nothing_new(
    client, source, user_sync, django_capture_on_commit_callbacks
):
    body = envelope(source.domain, [user_event("alice"), user_event("bob")])
    webhook_post(client, body, sender=source)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        again = webhook_post(client, body, sender=source)  # re-signed, new msg id

    assert again.status_code == 202
    assert again.json() == {"accepted": 0, "duplicates": 2}
    assert InboxEvent.objects.count() == 2
    assert callbacks == []


def test_partly_known_batch_stores_only_the_new_events(client, source, user_sync):
    known = user_event("alice")
    _post(client, source, [known])

    response = _post(client, source, [known, user_event("bob")])

    assert response.json() == {"accepted": 1, "duplicates": 1}
    assert InboxEvent.objects.count() == 2


@pytest.mark.parametrize("same", [True, False], ids=["same-event", "other-event"])
def test_two_events_with_one_id_in_a_batch_refuse_it_naming_both(
    client, source, user_sync, same
):
    first = user_event("alice")
    second = first if same else user_event("bob", id=first["id"])

    response = _post(client, source, [user_event("carol"), first, second])

    body = _assert_refused(response, 400, "invalid")
    assert f"events[2] has the id {first['id']!r} of events[1]" in body["detail"]


@pytest.mark.parametrize(
    "number", [b"1e400", b"-1e999", b"1e-400", b"123.4e500"], ids=str
)
def test_number_no_float_holds_is_400_naming_the_event(
    client, source, user_sync, number
):
    events = [user_event("alice"), user_event("bob", data={"first_name": "X"})]
    body = envelope(source.domain, events).replace(b'"X"', number)

    response = webhook_post(client, body, sender=source)

    refused = _assert_refused(response, 400, "invalid_json")
    assert f"events[1] (id {events[1]['id']!r}).data.first_name" in refused["detail"]
    assert number.decode() in refused["detail"]


@pytest.mark.parametrize(
    "number", [b"1.5e300", b"-0.0", b"0e10", b"1e-310", b"12345678901234567890"]
)
def test_numbers_a_float_or_an_integer_holds_are_stored_as_sent(
    client, source, user_sync, number
):
    event = user_event("alice", data={"first_name": "X"})
    body = envelope(source.domain, [event]).replace(b'"X"', number)

    response = webhook_post(client, body, sender=source)

    assert response.json() == {"accepted": 1, "duplicates": 0}
    # PostgreSQL's jsonb gives 1.5e300 back as the integer it equals.
    stored = InboxEvent.objects.get().data["first_name"]
    assert float(stored) == float(json.loads(number))


def test_accepted_counts_exactly_the_events_the_inbox_holds(client, source, user_sync):
    known = user_event("alice")
    _post(client, source, [known])
    events = [known, user_event("bob"), user_event("carol", data={"last_name": 1.5})]

    response = _post(client, source, events)

    assert response.json() == {"accepted": 2, "duplicates": 1}
    ids = set(InboxEvent.objects.values_list("event_id", flat=True))
    assert ids == {event["id"] for event in events}


def test_same_event_id_from_another_platform_is_a_new_event(
    client, source, user_sync, current_platform
):
    other = PlatformFactory(domain="c.test")
    SyncFactory(source_platform=other, target_platform=current_platform)
    event = user_event("alice")
    _post(client, source, [event])

    response = _post(client, other, [event])

    assert response.json() == {"accepted": 1, "duplicates": 0}
    assert InboxEvent.objects.filter(event_id=event["id"]).count() == 2


def test_platform_header_is_case_insensitive(client, source, user_sync):
    body = envelope(source.domain, [user_event("alice")])

    response = webhook_post(
        client, body, sender=source, headers={PLATFORM_HEADER: "B.TEST"}
    )

    assert response.status_code == 202


def test_second_of_several_signatures_is_enough(client, source, user_sync):
    body = envelope(source.domain, [user_event("alice")])
    headers = signed_headers(body, secret=source.signing_secret, domain=source.domain)
    headers["webhook-signature"] = "v1,bm9wZQ== " + headers["webhook-signature"]

    response = webhook_post(client, body, sender=source, headers=headers)

    assert response.status_code == 202


def test_delete_event_with_empty_data_is_accepted(client, source, user_sync):
    event = user_event("alice", type="deleted", data={}, should_delete=True)

    response = _post(client, source, [event])

    assert response.status_code == 202
    assert InboxEvent.objects.get().should_delete is True


def test_platforms_of_an_event_are_stored(client, source, user_sync):
    _post(client, source, [user_event("alice", platforms=["a.test", "c.test"])])

    assert InboxEvent.objects.get().platforms == ["a.test", "c.test"]


# --- authentication ----------------------------------------------------------


def test_bad_signature_is_401(client, source, user_sync):
    body = envelope(source.domain, [user_event("alice")])
    headers = signed_headers(body, secret=source.signing_secret, domain=source.domain)

    response = webhook_post(
        client, body.replace(b"alice", b"mallory"), sender=source, headers=headers
    )

    _assert_refused(response, 401, "invalid_signature")


def test_stale_timestamp_is_401(client, source, user_sync):
    body = envelope(source.domain, [user_event("alice")])
    headers = signed_headers(
        body,
        secret=source.signing_secret,
        domain=source.domain,
        timestamp=old_timestamp(301),
    )

    response = webhook_post(client, body, sender=source, headers=headers)

    _assert_refused(response, 401, "stale_timestamp")


def test_timestamp_from_the_future_is_401(client, source, user_sync):
    body = envelope(source.domain, [user_event("alice")])
    headers = signed_headers(
        body,
        secret=source.signing_secret,
        domain=source.domain,
        timestamp=old_timestamp(-400),
    )

    response = webhook_post(client, body, sender=source, headers=headers)

    _assert_refused(response, 401, "stale_timestamp")


@pytest.mark.parametrize(
    "missing", ["webhook-id", "webhook-timestamp", "webhook-signature"]
)
def test_missing_signature_header_is_401(client, source, user_sync, missing):
    body = envelope(source.domain, [user_event("alice")])
    headers = signed_headers(body, secret=source.signing_secret, domain=source.domain)
    del headers[missing]

    response = client.post(
        sync_settings.SYNC_WEBHOOK_URL,
        data=body,
        content_type="application/json",
        headers=headers,
    )

    _assert_refused(response, 401, "missing_signature")


def test_missing_platform_header_is_401(client, source, user_sync):
    body = envelope(source.domain, [user_event("alice")])
    headers = signed_headers(body, secret=source.signing_secret, domain=source.domain)
    del headers[PLATFORM_HEADER]

    response = client.post(
        sync_settings.SYNC_WEBHOOK_URL,
        data=body,
        content_type="application/json",
        headers=headers,
    )

    _assert_refused(response, 401, "unknown_platform")


def test_unknown_platform_header_is_401(client, source, user_sync):
    body = envelope("nowhere.test", [user_event("alice")])

    response = webhook_post(
        client, body, sender=source, headers={PLATFORM_HEADER: "nowhere.test"}
    )

    _assert_refused(response, 401, "unknown_platform")


@pytest.mark.parametrize(
    "claimed", ["b.test\x00", "b.test; DROP TABLE platforms_platform", " b.test", "ü"]
)
def test_platform_header_that_is_no_domain_is_401_not_500(
    client, source, user_sync, claimed
):
    body = envelope(source.domain, [user_event("alice")])

    response = webhook_post(
        client, body, sender=source, headers={PLATFORM_HEADER: claimed}
    )

    _assert_refused(response, 401, "unknown_platform")


def test_platform_header_with_a_port_is_found(client, current_platform):
    sender = PlatformFactory(domain="b.test:8000")
    SyncFactory(source_platform=sender, target_platform=current_platform)

    response = _post(client, sender, [user_event("alice")])

    assert response.status_code == 202


def test_platform_without_key_or_secret_is_401(client, source, user_sync):
    body = envelope(source.domain, [user_event("alice")])
    headers = signed_headers(body, secret=source.signing_secret, domain=source.domain)
    source.signing_secret = ""
    source.save()

    response = webhook_post(client, body, sender=source, headers=headers)

    _assert_refused(response, 401, "no_key")


def test_platform_claiming_another_name_with_its_own_secret_is_401(
    client, source, user_sync, current_platform
):
    impostor = PlatformFactory(domain="c.test")
    SyncFactory(source_platform=impostor, target_platform=current_platform)
    body = envelope(source.domain, [user_event("alice")])
    headers = signed_headers(body, secret=impostor.signing_secret, domain="b.test")

    response = webhook_post(client, body, sender=source, headers=headers)

    _assert_refused(response, 401, "invalid_signature")


def test_secret_of_no_platform_is_401(client, source, user_sync):
    body = envelope(source.domain, [user_event("alice")])
    headers = signed_headers(body, secret=signing_secret_generate(), domain="b.test")

    response = webhook_post(client, body, sender=source, headers=headers)

    _assert_refused(response, 401, "invalid_signature")


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("webhook-timestamp", "yesterday"),
        ("webhook-timestamp", "9" * 400),
        ("webhook-signature", "v1,\u00fc\u00fc\u00fc"),
        ("webhook-signature", "v2,abc"),
    ],
)
def test_malformed_signature_header_is_401_not_500(
    client, source, user_sync, header, value
):
    body = envelope(source.domain, [user_event("alice")])

    response = webhook_post(client, body, sender=source, headers={header: value})

    _assert_refused(response, 401)


# --- size, switch and method ---------------------------------------------------


def test_body_over_the_limit_is_413(client, source, user_sync, settings):
    body = envelope(source.domain, [user_event("alice")])
    settings.SYNC_WEBHOOK_MAX_BODY_BYTES = len(body) - 1

    response = webhook_post(client, body, sender=source)

    _assert_refused(response, 413, "too_large")


def test_body_at_the_limit_is_accepted(client, source, user_sync, settings):
    body = envelope(source.domain, [user_event("alice")])
    settings.SYNC_WEBHOOK_MAX_BODY_BYTES = len(body)

    response = webhook_post(client, body, sender=source)

    assert response.status_code == 202


def test_body_beyond_its_declared_length_is_not_read(client, source, user_sync):
    body = envelope(source.domain, [user_event("alice")])
    headers = signed_headers(body, secret=source.signing_secret, domain=source.domain)

    response = client.post(
        sync_settings.SYNC_WEBHOOK_URL,
        data=body,
        content_type="application/json",
        headers=headers,
        CONTENT_LENGTH="5",
    )

    _assert_refused(response, 401, "invalid_signature")


@pytest.mark.parametrize("declared", ["-1", "abc", "\u00b2"])
def test_malformed_content_length_is_413_not_500(client, source, user_sync, declared):
    body = envelope(source.domain, [user_event("alice")])
    headers = signed_headers(body, secret=source.signing_secret, domain=source.domain)

    response = client.post(
        sync_settings.SYNC_WEBHOOK_URL,
        data=body,
        content_type="application/json",
        headers=headers,
        CONTENT_LENGTH=declared,
    )

    _assert_refused(response, 413, "too_large")


def test_disabled_webhook_is_404(client, source, user_sync, settings):
    settings.SYNC_WEBHOOK_ENABLED = False

    response = _post(client, source, [user_event("alice")])

    _assert_refused(response, 404, "not_found")
    assert client.get(sync_settings.SYNC_WEBHOOK_URL).status_code == 404


def test_chunked_body_is_411_not_a_bad_signature(client, source, user_sync):
    body = envelope(source.domain, [user_event("alice")])
    headers = signed_headers(body, secret=source.signing_secret, domain=source.domain)

    response = client.post(
        sync_settings.SYNC_WEBHOOK_URL,
        data=body,
        content_type="application/json",
        headers=headers | {"Transfer-Encoding": "chunked"},
    )

    _assert_refused(response, 411, "length_required")


def test_chunked_body_over_http_is_411(live_server, source, user_sync):
    body = envelope(source.domain, [user_event("alice")])
    headers = signed_headers(body, secret=source.signing_secret, domain=source.domain)
    url = urlsplit(live_server.url)
    lines = [
        f"POST {sync_settings.SYNC_WEBHOOK_URL} HTTP/1.1",
        f"Host: {url.netloc}",
        "Content-Type: application/json",
        "Transfer-Encoding: chunked",
        "Connection: close",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)

    # In one write: the server answers before it reads the body, then closes.
    with socket.create_connection((url.hostname, url.port), timeout=10) as client:
        client.sendall("\r\n".join(lines).encode() + b"\r\n\r\n" + chunked)
        answer = b"".join(iter(lambda: client.recv(65536), b""))

    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.split(b" ")[1] == b"411"
    assert json.loads(payload)["error"] == "length_required"


def test_get_is_405(client):
    response = client.get(sync_settings.SYNC_WEBHOOK_URL)

    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"


def test_this_platform_not_installed_is_503(client, source):
    response = _post(client, source, [user_event("alice")])

    _assert_refused(response, 503, "not_installed")


# --- envelope shape ------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"{",
        b'{"source": "b.test", "events": [\xff\xfe]}',
        b"\xff\xfe\xfa",
        b"",
        b"[" * 100_000 + b"]" * 100_000,
        b'{"version": 1' + b"0" * 5000 + b"}",
    ],
    ids=[
        "text",
        "truncated",
        "bad-utf8-inside",
        "bad-utf8",
        "empty",
        "deeply-nested",
        "huge-integer-literal",
    ],
)
def test_body_that_is_not_json_is_400(client, source, user_sync, body):
    response = webhook_post(client, body, sender=source)

    _assert_refused(response, 400, "invalid_json")


@pytest.mark.parametrize(
    "payload",
    [[], ["b.test"], "b.test", 5, None],
    ids=["empty-list", "list", "string", "number", "null"],
)
def test_json_that_is_not_an_envelope_is_400(client, source, user_sync, payload):
    response = webhook_post(client, json.dumps(payload).encode(), sender=source)

    body = _assert_refused(response, 400, "invalid")
    assert body["detail"].startswith(("Invalid data", "No data"))


def _event_without(name: str) -> dict:
    event = user_event("alice")
    del event[name]
    return event


@pytest.mark.parametrize(
    ("payload", "named"),
    [
        ({"source": "b.test"}, "events"),
        ({"events": [user_event("alice")]}, "source"),
        ({"source": "b.test", "events": []}, "events"),
        ({"source": "b.test", "events": {"0": user_event("a")}}, "events"),
        ({"source": "b.test", "events": [1]}, "events[0]"),
        ({"source": "b.test", "events": [user_event("a", type="moved")]}, "type"),
        ({"source": "b.test", "events": [user_event("a", model="auth")]}, "model"),
        ({"source": "b.test", "events": [user_event("a", model="a.b.C")]}, "model"),
        (
            {"source": "b.test", "events": [user_event("a", model="x; DROP y.z")]},
            "model",
        ),
        ({"source": "b.test", "events": [user_event("a", key={"pk": 1})]}, "key"),
        ({"source": "b.test", "events": [user_event("a", key=[])]}, "key"),
        ({"source": "b.test", "events": [user_event("a", key=None)]}, "key"),
        ({"source": "b.test", "events": [user_event("a", key=1.5)]}, "key"),
        ({"source": "b.test", "events": [user_event("a", key=True)]}, "key"),
        ({"source": "b.test", "events": [user_event("a", key=[["a"]])]}, "key"),
        ({"source": "b.test", "events": [user_event("a", version=0)]}, "version"),
        ({"source": "b.test", "events": [user_event("a", version=-3)]}, "version"),
        ({"source": "b.test", "events": [user_event("a", version=2**63)]}, "version"),
        ({"source": "b.test", "events": [user_event("a", version=10**40)]}, "version"),
        ({"source": "b.test", "events": [user_event("a", version=1e300)]}, "version"),
        ({"source": "b.test", "events": [user_event("a", version=1.5)]}, "version"),
        ({"source": "b.test", "events": [user_event("a", version="x")]}, "version"),
        ({"source": "b.test", "events": [user_event("a", data=["x"])]}, "data"),
        ({"source": "b.test", "events": [user_event("a", data="x")]}, "data"),
        ({"source": "b.test", "events": [user_event("a", data=None)]}, "data"),
        (
            {"source": "b.test", "events": [user_event("a", should_delete="maybe")]},
            "should_delete",
        ),
        (
            {"source": "b.test", "events": [user_event("a", should_delete="yes")]},
            "should_delete",
        ),
        (
            {"source": "b.test", "events": [user_event("a", should_delete=1)]},
            "should_delete",
        ),
        (
            {"source": "b.test", "events": [user_event("a", should_delete=None)]},
            "should_delete",
        ),
        ({"source": "b.test", "events": [user_event("a", id="")]}, "id"),
        ({"source": "b.test", "events": [user_event("a", id="x" * 65)]}, "id"),
        ({"source": "b.test", "events": [user_event("a", id="a b")]}, "id"),
        (
            {"source": "b.test", "events": [user_event("a", platforms="a.test")]},
            "platforms",
        ),
        (
            {"source": "b.test", "events": [_event_without("source_model")]},
            "source_model",
        ),
        (
            {"source": "b.test", "events": [_event_without("should_delete")]},
            "should_delete",
        ),
    ],
)
def test_wrong_envelope_shape_is_400_naming_what_is_wrong(
    client, source, user_sync, payload, named
):
    response = webhook_post(client, json.dumps(payload).encode(), sender=source)

    body = _assert_refused(response, 400, "invalid")
    assert named in body["detail"]


def test_error_names_the_event_at_fault(client, source, user_sync):
    events = [user_event("alice"), user_event("bob", version=0)]

    response = _post(client, source, events)

    body = _assert_refused(response, 400, "invalid")
    assert body["detail"].startswith("events[1].version:")


def test_one_bad_event_refuses_the_whole_envelope(client, source, user_sync):
    events = [user_event("alice"), user_event("bob", type="moved")]

    response = _post(client, source, events)

    _assert_refused(response, 400)


def test_too_many_events_is_400(client, source, user_sync):
    event = user_event("alice", data={})
    events = [event | {"id": f"e{i}"} for i in range(MAX_EVENTS + 1)]

    response = _post(client, source, events)

    body = _assert_refused(response, 400, "invalid")
    assert "events" in body["detail"]


def test_source_in_body_differing_from_the_header_is_400(client, source, user_sync):
    body = envelope("c.test", [user_event("alice")])

    response = webhook_post(client, body, sender=source)

    _assert_refused(response, 400, "source_mismatch")


# --- allow-list ----------------------------------------------------------------


def test_model_without_any_sync_is_403(client, source, current_platform):
    response = _post(client, source, [user_event("alice")])

    body = _assert_refused(response, 403, "model_not_allowed")
    assert "b.test" in body["detail"]
    assert body["detail"].startswith("events[0] (id ")  # the event at fault


def test_model_of_an_inactive_sync_is_403(client, source, user_sync):
    user_sync.status = False
    user_sync.save()

    response = _post(client, source, [user_event("alice")])

    _assert_refused(response, 403, "model_not_allowed")


def test_model_of_a_sync_to_another_platform_is_403(client, source, current_platform):
    SyncFactory(source_platform=source, target_platform=PlatformFactory())

    response = _post(client, source, [user_event("alice")])

    _assert_refused(response, 403, "model_not_allowed")


def test_model_of_a_sync_from_another_platform_is_403(client, source, current_platform):
    SyncFactory(target_platform=current_platform)

    response = _post(client, source, [user_event("alice")])

    _assert_refused(response, 403, "model_not_allowed")


def test_model_that_is_only_the_source_model_of_the_sync_is_403(
    client, source, current_platform
):
    SyncFactory(
        source_platform=source,
        target_platform=current_platform,
        source_model="auth.User",
        target_model="auth.Group",
    )

    response = _post(client, source, [user_event("alice")])

    _assert_refused(response, 403, "model_not_allowed")


def test_event_for_a_sync_whose_source_model_differs_is_403(client, source, user_sync):
    event = user_event("alice", source_model="auth.Group")

    response = _post(client, source, [event])

    _assert_refused(response, 403, "model_not_allowed")


def test_one_disallowed_model_refuses_the_whole_envelope(client, source, user_sync):
    group = user_event(
        "editors", model="auth.Group", source_model="auth.Group", data={}
    )

    response = _post(client, source, [user_event("alice"), group])

    _assert_refused(response, 403, "model_not_allowed")


def test_model_allowed_with_other_letter_case_is_stored_under_the_sync_label(
    client, source, user_sync
):
    response = _post(client, source, [user_event("alice", model="AUTH.user")])

    assert response.status_code == 202
    assert InboxEvent.objects.get().model_label == "auth.User"


def test_sync_to_a_model_not_installed_here_is_403(client, source, current_platform):
    SyncFactory(
        source_platform=source,
        target_platform=current_platform,
        target_model="shop.Product",
    )
    event = user_event("alice", model="shop.Product", data={"name": "x"})

    response = _post(client, source, [event])

    _assert_refused(response, 403, "model_not_allowed")


# --- fields ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "field",
    [
        "nickname",
        "id; DROP TABLE auth_user",
        "id",
        "pk",
        "logentry",
        "groups__name",
        "",
        "x" * 10_000,
    ],
)
def test_field_that_is_not_writable_on_the_target_is_400(
    client, source, user_sync, field
):
    event = user_event("alice", data=user_data("alice") | {field: "x"})

    response = _post(client, source, [event])

    body = _assert_refused(response, 400, "unknown_field")
    assert len(body["detail"]) < 300


def test_sql_looking_field_name_leaves_the_tables_intact(
    client, source, user_sync, django_user_model
):
    django_user_model.objects.create(username="keeper")
    event = user_event("alice", data={"id; DROP TABLE auth_user": "x"})

    _post(client, source, [event])

    assert django_user_model.objects.filter(username="keeper").exists()


def test_field_mappings_rename_the_stored_data(client, source, user_sync):
    user_sync.field_mappings = {"email": "first_name"}
    user_sync.save()

    _post(client, source, [user_event("alice", data={"email": "a@example.com"})])

    assert InboxEvent.objects.get().data == {"first_name": "a@example.com"}


@pytest.mark.parametrize(
    ("mappings", "expected"),
    [
        (
            {"email": "first_name"},
            {"first_name": "a@example.com", "email": None},
        ),
        ({"first_name": "email"}, {"first_name": None, "email": "Al"}),
        (
            {"first_name": "last_name", "last_name": "first_name"},
            {"first_name": "Lee", "last_name": "Al"},
        ),
    ],
    ids=["later-field-mapped", "earlier-field-mapped", "swap"],
)
def test_mapped_field_wins_over_a_sent_field_of_the_same_name(
    client, source, user_sync, mappings, expected
):
    user_sync.field_mappings = mappings
    user_sync.save()
    data = user_data("a", first_name="Al", last_name="Lee", email="a@example.com")

    _post(client, source, [user_event("a", data=data)])

    stored = InboxEvent.objects.get().data
    assert {name: stored.get(name) for name in expected} == expected


def test_field_mapped_to_a_missing_field_is_400(client, source, user_sync):
    user_sync.field_mappings = {"email": "mail"}
    user_sync.save()

    response = _post(client, source, [user_event("alice", data={"email": "a@b.c"})])

    body = _assert_refused(response, 400, "unknown_field")
    assert "'mail'" in body["detail"]


def test_unknown_source_field_renamed_to_a_known_one_is_accepted(
    client, source, user_sync
):
    user_sync.field_mappings = {"nickname": "first_name"}
    user_sync.save()

    response = _post(client, source, [user_event("alice", data={"nickname": "Al"})])

    assert response.status_code == 202
    assert InboxEvent.objects.get().data == {"first_name": "Al"}


def test_only_mapped_fields_are_kept_when_not_syncing_all_fields(
    client, source, user_sync
):
    user_sync.sync_all_fields = False
    user_sync.field_mappings = {"email": "email", "nickname": "first_name"}
    user_sync.save()
    data = user_data("alice", nickname="Al", anything="ignored")

    response = _post(client, source, [user_event("alice", data=data)])

    assert response.status_code == 202
    assert InboxEvent.objects.get().data == {
        "email": "alice@example.com",
        "first_name": "Al",
    }


# --- never a 500 -----------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        {"first_name": "\u0000"},
        {"first\u0000name": "x"},
        {"first_name": "\ud800"},
        {"first_name": ["\udfff"]},
        {"first_name": float("nan")},
        {"first_name": float("inf")},
        {"first_name": float("-inf")},
    ],
    ids=[
        "nul",
        "nul-in-name",
        "lone-surrogate",
        "nested-lone-surrogate",
        "nan",
        "infinity",
        "minus-infinity",
    ],
)
def test_values_no_database_can_store_are_400_not_500(client, source, user_sync, data):
    response = _post(client, source, [user_event("alice", data=data)])

    _assert_refused(response, 400, "invalid_json")


def _nested(depth: int):
    value = "x"
    for _ in range(depth):
        value = [value]
    return value


def test_data_nested_too_deeply_is_400_not_500(client, source, user_sync):
    event = user_event("alice", data={"first_name": _nested(40)})

    response = _post(client, source, [event])

    body = _assert_refused(response, 400, "invalid_json")
    assert "nested" in body["detail"]


@pytest.mark.parametrize(
    "value",
    [
        10**200,
        -(10**200),
        {"nested": [1, {"deeper": None}]},
        _nested(20),
        "\u00e9\U0001f600",
    ],
    ids=["huge-int", "huge-negative-int", "object", "nested-list", "non-ascii"],
)
def test_odd_but_storable_values_are_accepted(client, source, user_sync, value):
    response = _post(client, source, [user_event("alice", data={"first_name": value})])

    assert response.status_code == 202
    assert InboxEvent.objects.get().data == {"first_name": value}


@pytest.mark.parametrize(
    "key", [2**63, -(2**63) - 1, ["alice", 10**30]], ids=["big", "small", "in-list"]
)
def test_key_integer_past_64_bits_is_400_not_500(client, source, user_sync, key):
    response = _post(client, source, [user_event("alice", key=key)])

    body = _assert_refused(response, 400, "invalid")
    assert body["detail"].startswith("events[0].key:")


@pytest.mark.parametrize("interval", [2**63, 10**30, -1])
def test_integer_its_column_cannot_hold_is_400_naming_the_event(
    client, source, current_platform, interval
):
    SyncFactory(
        source_platform=source,
        target_platform=current_platform,
        source_model="syncs.Sync",
        target_model="syncs.Sync",
    )
    events = [
        user_event("a", model="syncs.Sync", source_model="syncs.Sync", data={}),
        user_event(
            "b", model="syncs.Sync", source_model="syncs.Sync", data={"interval": 5}
        ),
    ]
    events[1]["data"]["interval"] = interval

    response = _post(client, source, events)

    body = _assert_refused(response, 400, "out_of_range")
    assert body["detail"].startswith(f"events[1] (id {events[1]['id']!r}): ")
    assert "syncs.Sync.interval holds integers from 0 to " in body["detail"]


def test_lone_surrogate_in_a_key_is_400_not_500(client, source, user_sync):
    response = _post(client, source, [user_event("\ud800")])

    _assert_refused(response, 400, "invalid_json")
