"""The digest endpoint: who may ask, about what, and what it answers."""

import json

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from platforms.credentials import signing_secret_generate
from platforms.models import PlatformRelation
from platforms.transport import PLATFORM_HEADER
from syncs.backup.scope import source_fields, source_scope
from syncs.digest.hashing import bucket_of, buckets_decode, record_digest
from syncs.digest.records import PLATFORMS_FIELD, records_data
from syncs.digest.scan import bucket_digests
from syncs.identity import record_key_digest
from tests.factories import PlatformFactory, SyncFactory, UserFactory
from tests.webhooks.signed import old_timestamp, signed_headers

pytestmark = pytest.mark.django_db

# Not "password": a privileged field, which this sync does not write.
FIELDS = ["email", "groups", "username"]


@pytest.fixture
def url():
    return reverse("sync-digest")


@pytest.fixture
def users(db):
    return [UserFactory(username=f"user{i:02d}") for i in range(20)]


def _ask(client, url, payload, *, sender, secret=None, timestamp=None, **headers):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    signed = signed_headers(
        body,
        secret=secret or sender.signing_secret,
        domain=sender.domain,
        timestamp=timestamp,
    )
    return client.post(
        url, data=body, content_type="application/json", headers=signed | headers
    )


def _request(op: str = "plan", **values) -> dict:
    return {
        "op": op,
        "source_model": "auth.User",
        "model": "auth.User",
        "fields": FIELDS,
    } | values


def _refused(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"error", "detail"}
    if code:
        assert body["error"] == code
    return body


# --- answers ------------------------------------------------------------------


def test_plan_names_the_fields_compared_and_the_records_held(
    client, url, source, user_sync, users
):
    response = _ask(client, url, _request(), sender=source)

    assert response.status_code == 200
    assert response.json() == {"fields": FIELDS, "records": 20}


def test_plan_leaves_out_fields_the_target_stamps_itself(
    client, url, source, current_platform
):
    SyncFactory(
        source_platform=source,
        target_platform=current_platform,
        source_model="demoapp.Document",
        target_model="demoapp.Document",
    )
    payload = _request(
        source_model="demoapp.Document",
        model="demoapp.Document",
        fields=["slug", "title", "updated_at"],
    )

    response = _ask(client, url, payload, sender=source)

    assert response.json() == {"fields": ["slug", "title"], "records": 0}


def test_bucket_digests_equal_the_sources_for_the_same_records(
    client, url, source, user_sync, users, current_platform
):
    # The same table seen as a source (a sync from here) and as a target.
    outgoing = SyncFactory(source_platform=current_platform, target_platform=source)
    fields = source_fields(outgoing)
    scope = source_scope(outgoing, identifier="natural_key", fields=fields)
    ours = bucket_digests(scope, buckets=8)

    response = _ask(
        client, url, _request("buckets", buckets=8, fields=fields), sender=source
    )

    assert response.status_code == 200
    assert buckets_decode(response.json()["digests"], 8) == ours.digests
    assert any(ours.digests)


def test_records_lists_key_and_digest_of_each_record_in_the_buckets(
    client, url, source, user_sync, users
):
    wanted = bucket_of(record_key_digest(["user03"]), 4)

    response = _ask(
        client, url, _request("records", buckets=4, numbers=[wanted]), sender=source
    )

    listed = response.json()["records"]
    assert list(listed) == [str(wanted)]
    by_key = {tuple(key): digest for key, digest in listed[str(wanted)]}
    user = User.objects.get(username="user03")
    data = records_data([user], fields=FIELDS)[0]
    expected = record_digest(record_key_digest(["user03"]), data).hex()
    assert by_key[("user03",)] == expected
    in_bucket = [
        u.username
        for u in users
        if bucket_of(record_key_digest([u.username]), 4) == wanted
    ]
    assert sorted(key[0] for key in by_key) == sorted(in_bucket)


def test_plan_compares_platforms_only_where_this_platform_stores_them(
    client, url, source, user_sync, settings
):
    asked = _request(fields=["email", PLATFORMS_FIELD])

    not_stored = _ask(client, url, asked, sender=source)
    settings.SYNC_MODELS_WITH_PLATFORM_RELATIONS = ["auth.User"]
    stored = _ask(client, url, asked, sender=source)

    assert not_stored.json()["fields"] == ["email"]
    assert stored.json()["fields"] == ["email", PLATFORMS_FIELD]


def test_platform_digests_equal_the_sources_and_follow_the_relations(
    client, url, source, user_sync, users, current_platform, settings
):
    settings.SYNC_MODELS_WITH_PLATFORM_RELATIONS = ["auth.User"]
    for user in users[:5]:
        PlatformRelation.objects.create(record=user, platform=source)
    outgoing = SyncFactory(source_platform=current_platform, target_platform=source)
    fields = source_fields(outgoing)
    scope = source_scope(outgoing, identifier="natural_key", fields=fields)
    asked = _request("buckets", buckets=8, fields=fields)

    before = _ask(client, url, asked, sender=source).json()["digests"]
    PlatformRelation.objects.filter(object_id=str(users[0].pk)).delete()
    after = _ask(client, url, asked, sender=source).json()["digests"]

    assert PLATFORMS_FIELD in fields
    assert buckets_decode(after, 8) == bucket_digests(scope, buckets=8).digests
    assert before != after


# --- pages --------------------------------------------------------------------


def _pages(client, url, source, asked: dict) -> list[dict]:
    """Ask page after page, as the backup does; return every answer."""
    answers, after = [], None
    while True:
        response = _ask(client, url, asked | {"after": after}, sender=source)
        assert response.status_code == 200, response.content
        answers.append(response.json())
        if (after := answers[-1]["next"]) is None:
            return answers


def test_a_walk_out_of_time_answers_a_page_and_where_the_next_starts(
    client, url, source, user_sync, users, settings, monkeypatch
):
    monkeypatch.setattr("syncs.digest.scan.CHUNK_SIZE", 6)
    whole = _ask(client, url, _request("buckets", buckets=8), sender=source).json()
    settings.SYNC_PAGE_SECONDS = 0  # every chunk is a page

    answers = _pages(client, url, source, _request("buckets", buckets=8))

    # 20 records in chunks of 6: pages of 6, 6, 6 and the last 2.
    assert [answer["next"] for answer in answers] == [
        str(users[5].pk),
        str(users[11].pk),
        str(users[17].pk),
        None,
    ]
    combined = [0] * 8
    for answer in answers:
        for bucket, digest in enumerate(buckets_decode(answer["digests"], 8)):
            combined[bucket] ^= digest
    assert whole["next"] is None  # in time: one page
    assert combined == buckets_decode(whole["digests"], 8)


def test_record_pages_together_list_every_record_of_the_buckets(
    client, url, source, user_sync, users, settings, monkeypatch
):
    monkeypatch.setattr("syncs.digest.scan.CHUNK_SIZE", 6)
    settings.SYNC_PAGE_SECONDS = 0
    answers = _pages(client, url, source, _request("records", buckets=1, numbers=[0]))

    listed = [key for answer in answers for key, _ in answer["records"]["0"]]
    assert len(answers) == 4
    assert sorted(listed) == [[user.username] for user in users]


def test_an_after_that_is_no_pk_is_400_and_answers_nothing(
    client, url, source, user_sync, users
):
    asked = _request("buckets", buckets=8, after="not-a-number")

    body = _refused(_ask(client, url, asked, sender=source), 400, "invalid")

    assert "after" in body["detail"]


# --- who may ask --------------------------------------------------------------


def test_wrong_signature_is_401(client, url, source, user_sync):
    response = _ask(
        client, url, _request(), sender=source, secret=signing_secret_generate()
    )
    _refused(response, 401, "invalid_signature")


def test_stale_timestamp_is_401(client, url, source, user_sync):
    response = _ask(
        client, url, _request(), sender=source, timestamp=old_timestamp(301)
    )
    _refused(response, 401, "stale_timestamp")


def test_unknown_platform_is_401(client, url, user_sync):
    stranger = PlatformFactory.build(domain="stranger.test")
    response = _ask(client, url, _request(), sender=stranger)
    _refused(response, 401, "unknown_platform")


def test_unsigned_request_is_401(client, url, source, user_sync):
    response = client.post(
        url,
        data=json.dumps(_request()),
        content_type="application/json",
        headers={PLATFORM_HEADER: source.domain},
    )
    _refused(response, 401, "missing_signature")


def test_model_without_a_sync_from_the_sender_is_403(client, url, source, user_sync):
    payload = _request(source_model="auth.Group", model="auth.Group", fields=["name"])
    _refused(_ask(client, url, payload, sender=source), 403, "model_not_allowed")


def test_inactive_sync_is_403(client, url, source, user_sync):
    user_sync.status = False
    user_sync.save()
    _refused(_ask(client, url, _request(), sender=source), 403, "model_not_allowed")


def test_sync_to_another_platform_is_403(client, url, source, current_platform):
    SyncFactory(source_platform=source, target_platform=PlatformFactory())
    _refused(_ask(client, url, _request(), sender=source), 403, "model_not_allowed")


def test_platform_rows_are_403(client, url, source, user_sync):
    payload = _request(
        source_model="platforms.Platform", model="platforms.Platform", fields=["name"]
    )
    _refused(_ask(client, url, payload, sender=source), 403, "model_not_allowed")


def test_unknown_field_is_400(client, url, source, user_sync):
    payload = _request(fields=["username", "is_root"])
    _refused(_ask(client, url, payload, sender=source), 400, "unknown_field")


# --- bad bodies ---------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        b"null",
        json.dumps({"op": "plan"}).encode(),
        json.dumps(_request(op="drop")).encode(),
        json.dumps(_request(fields="username")).encode(),
        json.dumps(_request(fields=[1, {}])).encode(),
        json.dumps(_request(model="no-dot")).encode(),
        json.dumps(_request("buckets")).encode(),
        json.dumps(_request("buckets", buckets=3)).encode(),
        json.dumps(_request("buckets", buckets=2**17)).encode(),
        json.dumps(_request("buckets", buckets="many")).encode(),
        json.dumps(_request("records", buckets=4)).encode(),
        json.dumps(_request("records", buckets=4, numbers=[4])).encode(),
        json.dumps(_request("records", buckets=4, numbers=[-1])).encode(),
        json.dumps(_request("records", buckets=4, numbers="0")).encode(),
        b'{"op": "plan", "fields": ["\\u0000"]}',
        b"[" * 100 + b"]" * 100,
    ],
)
def test_bad_bodies_are_400_with_a_reason(client, url, source, user_sync, body):
    body_text = _refused(_ask(client, url, body, sender=source), 400)
    assert body_text["detail"]


def test_body_over_the_limit_is_413(client, url, source, user_sync, settings):
    settings.SYNC_WEBHOOK_MAX_BODY_BYTES = 100
    payload = _request(fields=["username"] * 50)
    _refused(_ask(client, url, payload, sender=source), 413, "too_large")


def test_endpoint_is_gone_when_the_webhook_is_off(client, url, source, settings):
    settings.SYNC_WEBHOOK_ENABLED = False
    assert _ask(client, url, _request(), sender=source).status_code == 404


def test_only_post_is_answered(client, url):
    assert client.get(url).status_code == 405


def test_webhook_off_closes_the_digest_endpoint_with_404(
    client, url, source, user_sync, settings
):
    settings.SYNC_WEBHOOK_ENABLED = False

    response = _ask(client, url, _request(), sender=source)

    _refused(response, 404, "not_found")
    assert client.get(url).status_code == 404


def test_chunked_digest_request_is_411(client, url, source, user_sync):
    response = _ask(
        client, url, _request(), sender=source, **{"Transfer-Encoding": "chunked"}
    )

    _refused(response, 411, "length_required")


@pytest.mark.parametrize("number", [2**63, 10**30, -1])
def test_bucket_numbers_out_of_range_are_400_not_500(
    client, url, source, user_sync, number
):
    payload = _request("records", buckets=4, numbers=[number])

    _refused(_ask(client, url, payload, sender=source), 400, "invalid")
