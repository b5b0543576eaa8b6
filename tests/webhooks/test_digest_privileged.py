"""The digest endpoint answers over the fields the sync writes, no others."""

import json

import pytest
from django.urls import reverse

from syncs.digest.hashing import bucket_of, record_digest
from syncs.digest.records import records_data
from syncs.identity import record_key_digest
from tests.factories import UserFactory
from tests.webhooks.signed import signed_headers

pytestmark = pytest.mark.django_db

ASKED = ["email", "groups", "is_staff", "password", "username"]


def _ask(client, sender, op: str = "plan", **values):
    payload = {
        "op": op,
        "source_model": "auth.User",
        "model": "auth.User",
        "fields": ASKED,
    } | values
    body = json.dumps(payload).encode()
    return client.post(
        reverse("sync-digest"),
        data=body,
        content_type="application/json",
        headers=signed_headers(
            body, secret=sender.signing_secret, domain=sender.domain
        ),
    )


def test_plan_leaves_out_privileged_fields_the_sync_does_not_write(
    client, source, user_sync
):
    response = _ask(client, source)

    assert response.json()["fields"] == ["email", "groups", "username"]


def test_plan_keeps_privileged_fields_the_mappings_name(client, source, user_sync):
    user_sync.field_mappings = {"password": "password"}
    user_sync.save()

    response = _ask(client, source)

    assert response.json()["fields"] == ["email", "groups", "password", "username"]


def test_plan_of_a_sync_of_some_fields_names_only_those(client, source, user_sync):
    user_sync.sync_all_fields = False
    user_sync.field_mappings = {"mail": "email", "name": "username"}
    user_sync.save()

    response = _ask(client, source)

    assert response.json()["fields"] == ["email", "username"]


def test_records_are_digested_over_the_fields_the_sync_writes(
    client, source, user_sync
):
    user = UserFactory(username="ada", is_staff=True)
    bucket = bucket_of(record_key_digest(["ada"]), 1)

    response = _ask(client, source, "records", buckets=1, numbers=[bucket])

    [[key, digest]] = response.json()["records"][str(bucket)]
    data = records_data([user], fields=["email", "groups", "username"])[0]
    assert (key, digest) == (["ada"], record_digest(record_key_digest(key), data).hex())
