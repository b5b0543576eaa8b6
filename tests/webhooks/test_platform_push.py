"""The master's push of the platform list through SyncWebhook: who may send it."""

import json
import uuid

import pytest

from platforms.credentials import api_token_generate, signing_secret_generate
from platforms.models import Platform, PlatformKey
from platforms.push import PUSH_FIELDS
from platforms.signing import delivery_sign, key_pair_generate, secret_from_token
from tests.factories import PlatformFactory, SyncFactory
from tests.webhooks.signed import envelope, signed_headers, user_event, webhook_post
from webhooks.models import InboxEvent

pytestmark = pytest.mark.django_db

TOKEN = "cluster-token-" + "x" * 40
BOOTSTRAP = secret_from_token(TOKEN)


@pytest.fixture(autouse=True)
def _cluster_token(settings):
    settings.SYNC_TOKEN = TOKEN


def wire_row(platform: Platform | None = None, **fields) -> dict:
    """Return a platform as a row of the push (JSON types)."""
    if platform is not None:
        values = {name: getattr(platform, name) for name in PUSH_FIELDS}
    else:
        values = {
            "name": fields["domain"].upper(),
            "scheme": "http",
            "ip_address": None,
            "master": False,
            "locked": False,
            "lock_reason": "",
            "show_in_menu": False,
            "order": 0,
            "api_token": api_token_generate(),
            "signing_secret": signing_secret_generate(),
        }
    return values | {"uuid": str(values.get("uuid") or uuid.uuid4())} | fields


def push_body(source: str, rows: list[dict]) -> bytes:
    return json.dumps({"source": source, "platforms": rows}).encode()


def post_push(client, body: bytes, *, domain: str, secrets: list[str]):
    """POST a push from ``domain``, signed with each of ``secrets``."""
    headers = signed_headers(body, secret=secrets[0], domain=domain)
    for more in secrets[1:]:
        headers["webhook-signature"] += " " + delivery_sign(
            secret=more,
            msg_id=headers["webhook-id"],
            timestamp=int(headers["webhook-timestamp"]),
            body=body,
        )
    return client.post(
        "/sync-webhook", data=body, content_type="application/json", headers=headers
    )


def _snapshot() -> list[tuple]:
    return list(Platform.objects.order_by("pk").values_list(*PUSH_FIELDS))


# --- from the master ------------------------------------------------------------


def test_push_from_the_master_is_applied_and_reported(client, current_platform):
    master = PlatformFactory(domain="m.test", master=True)
    newcomer = wire_row(domain="n.test")
    rows = [wire_row(master), wire_row(current_platform), newcomer]

    response = post_push(
        client,
        push_body("m.test", rows),
        domain="m.test",
        secrets=[master.signing_secret],
    )

    assert response.status_code == 200
    assert response.json() == {
        "created": ["n.test"],
        "updated": [],
        "deleted": [],
        "kept": [],
        "held_keys": [],
    }
    assert Platform.objects.get(domain="n.test").uuid == uuid.UUID(newcomer["uuid"])


def test_push_from_the_master_deletes_platforms_it_no_longer_lists(
    client, current_platform
):
    master = PlatformFactory(domain="m.test", master=True)
    PlatformFactory(domain="gone.test")
    rows = [wire_row(master), wire_row(current_platform)]

    response = post_push(
        client,
        push_body("m.test", rows),
        domain="m.test",
        secrets=[master.signing_secret],
    )

    assert response.json()["deleted"] == ["gone.test"]
    assert not Platform.objects.filter(domain="gone.test").exists()


def test_push_signed_also_with_the_bootstrap_secret_is_verified_by_the_masters(
    client, current_platform
):
    master = PlatformFactory(domain="m.test", master=True)
    rows = [wire_row(master), wire_row(current_platform, name="Renamed")]

    response = post_push(
        client,
        push_body("m.test", rows),
        domain="m.test",
        secrets=[master.signing_secret, BOOTSTRAP],
    )

    assert response.status_code == 200
    assert response.json()["updated"] == [current_platform.domain]


# --- refused ----------------------------------------------------------------------


def test_push_from_a_platform_that_is_not_the_master_is_403_and_writes_nothing(
    client, current_platform
):
    PlatformFactory(domain="m.test", master=True)
    other = PlatformFactory(domain="b.test")
    rows = [wire_row(other, master=True), wire_row(current_platform)]
    before = _snapshot()

    response = post_push(
        client,
        push_body("b.test", rows),
        domain="b.test",
        secrets=[other.signing_secret],
    )

    assert response.status_code == 403
    assert response.json()["error"] == "not_master"
    assert _snapshot() == before


def test_push_naming_another_master_is_400_and_writes_nothing(client, current_platform):
    master = PlatformFactory(domain="m.test", master=True)
    rows = [wire_row(master, master=False), wire_row(current_platform, master=True)]
    before = _snapshot()

    response = post_push(
        client,
        push_body("m.test", rows),
        domain="m.test",
        secrets=[master.signing_secret],
    )

    assert response.status_code == 400
    assert "only its sender, as the master" in response.json()["detail"]
    assert _snapshot() == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"domain": "not a domain"}, "domain"),
        ({"signing_secret": "plain"}, "signing_secret"),
        ({"scheme": "ftp"}, "scheme"),
        ({"uuid": "nope"}, "uuid"),
        ({"master": "yes"}, "master"),
    ],
)
def test_malformed_row_is_400_naming_the_field(client, current_platform, change, field):
    master = PlatformFactory(domain="m.test", master=True)
    rows = [wire_row(master), wire_row(current_platform) | change]

    response = post_push(
        client,
        push_body("m.test", rows),
        domain="m.test",
        secrets=[master.signing_secret],
    )

    assert response.status_code == 400
    assert response.json()["detail"].startswith(f"platforms[1].{field}:")


def _wire_key(**fields) -> dict:
    private_key, public_key = key_pair_generate()
    key = {
        "public_key": public_key,
        "private_key": private_key,
        "created_at": "2026-01-01T00:00:00Z",
        "retires_at": None,
    }
    return key | fields


@pytest.mark.parametrize(
    ("key", "field"),
    [
        ({"public_key": "whpk_short"}, "public_key"),
        ({"public_key": "whsec_" + "A" * 44}, "public_key"),
        ({"private_key": key_pair_generate()[0]}, "private_key"),  # not its pair
        ({"created_at": "yesterday"}, "created_at"),
    ],
)
def test_malformed_key_is_400_naming_it(client, current_platform, key, field):
    master = PlatformFactory(domain="m.test", master=True)
    own = wire_row(current_platform, keys=[_wire_key(**key)])
    before = _snapshot()

    response = post_push(
        client,
        push_body("m.test", [wire_row(master), own]),
        domain="m.test",
        secrets=[master.signing_secret],
    )

    assert response.status_code == 400
    assert response.json()["detail"].startswith(f"platforms[1].keys[0].{field}:")
    assert _snapshot() == before and not PlatformKey.objects.exists()


def test_one_key_listed_for_two_platforms_is_400(client, current_platform):
    master = PlatformFactory(domain="m.test", master=True)
    shared = _wire_key()
    rows = [wire_row(master, keys=[shared]), wire_row(current_platform, keys=[shared])]

    response = post_push(
        client,
        push_body("m.test", rows),
        domain="m.test",
        secrets=[master.signing_secret],
    )

    assert response.status_code == 400
    assert "Two keys share" in response.json()["detail"]
    assert not PlatformKey.objects.exists()


def test_two_rows_with_one_domain_are_400(client, current_platform):
    master = PlatformFactory(domain="m.test", master=True)
    rows = [
        wire_row(master),
        wire_row(domain="x.test", name="One"),
        wire_row(domain="X.test", name="Two"),
    ]

    response = post_push(
        client,
        push_body("m.test", rows),
        domain="m.test",
        secrets=[master.signing_secret],
    )

    assert response.status_code == 400
    assert "Two platforms share domain 'x.test'" in response.json()["detail"]


def test_list_clashing_with_a_kept_row_is_409_and_writes_nothing(
    client, current_platform
):
    master = PlatformFactory(domain="m.test", master=True)
    kept = PlatformFactory(name="Kept", domain="kept.test")
    SyncFactory(source_platform=kept, target_platform=current_platform)
    rows = [wire_row(master), wire_row(current_platform, name="Kept")]
    before = _snapshot()

    response = post_push(
        client,
        push_body("m.test", rows),
        domain="m.test",
        secrets=[master.signing_secret],
    )

    assert response.status_code == 409
    assert response.json()["error"] == "conflict"
    assert _snapshot() == before


@pytest.mark.parametrize("label", ["platforms.Platform", "platforms.PlatformKey"])
def test_platform_rows_and_keys_as_sync_events_are_refused_even_from_the_master(
    client, current_platform, label
):
    master = PlatformFactory(domain="m.test", master=True)
    SyncFactory(
        source_platform=master,
        target_platform=current_platform,
        source_model=label,
        target_model=label,
    )
    event = user_event("x") | {
        "model": label,
        "source_model": label,
        "key": str(uuid.uuid4()),
        "data": {"name": "Evil", "domain": "evil.test"},
    }

    response = webhook_post(client, envelope("m.test", [event]), sender=master)

    assert response.status_code == 403
    assert response.json()["error"] == "model_not_allowed"
    assert not InboxEvent.objects.exists()


# --- bootstrap: first contact signed with the SYNC_TOKEN secret --------------------


def _joining_push(current_platform) -> tuple[bytes, list[dict]]:
    """The master's first push to a platform that installed itself alone."""
    rows = [
        wire_row(domain="m.test", master=True),
        wire_row(domain="b.test"),
        wire_row(domain=current_platform.domain, name="A"),
    ]
    return push_body("m.test", rows), rows


def test_first_push_from_an_unknown_master_signed_with_the_cluster_token_joins(
    client, current_platform
):
    body, rows = _joining_push(current_platform)

    response = post_push(client, body, domain="m.test", secrets=[BOOTSTRAP])

    assert response.status_code == 200
    assert response.json()["created"] == ["m.test", "b.test"]
    assert response.json()["updated"] == [current_platform.domain]
    master = Platform.objects.get(master=True)
    assert (master.domain, master.signing_secret) == (
        "m.test",
        rows[0]["signing_secret"],
    )
    current_platform.refresh_from_db()
    assert str(current_platform.uuid) == rows[2]["uuid"]
    assert current_platform.signing_secret == rows[2]["signing_secret"]


def test_bootstrap_secret_works_once_then_the_masters_own_secret_is_needed(
    client, current_platform
):
    body, rows = _joining_push(current_platform)
    post_push(client, body, domain="m.test", secrets=[BOOTSTRAP])
    before = _snapshot()

    again = post_push(client, body, domain="m.test", secrets=[BOOTSTRAP])
    own = post_push(client, body, domain="m.test", secrets=[rows[0]["signing_secret"]])

    assert again.status_code == 401
    assert again.json()["error"] == "invalid_signature"
    assert _snapshot() == before
    assert own.status_code == 200


def test_bootstrap_secret_from_a_known_platform_after_joining_is_refused(
    client, current_platform
):
    body, rows = _joining_push(current_platform)
    post_push(client, body, domain="m.test", secrets=[BOOTSTRAP])
    before = _snapshot()
    coup = push_body("b.test", [r | {"master": r["domain"] == "b.test"} for r in rows])

    response = post_push(client, coup, domain="b.test", secrets=[BOOTSTRAP])

    assert response.status_code == 401
    assert _snapshot() == before


def test_bootstrap_secret_from_an_unknown_platform_after_joining_is_refused(
    client, current_platform
):
    PlatformFactory(domain="m.test", master=True)
    body = push_body("evil.test", [wire_row(domain="evil.test", master=True)])
    before = _snapshot()

    response = post_push(client, body, domain="evil.test", secrets=[BOOTSTRAP])

    assert response.status_code == 401
    assert response.json()["error"] == "unknown_platform"
    assert _snapshot() == before


def test_bootstrap_secret_never_signs_sync_events(client, current_platform):
    SyncFactory(
        source_platform=PlatformFactory(domain="b.test"),
        target_platform=current_platform,
    )
    body = envelope("b.test", [user_event("mallory")])

    response = post_push(client, body, domain="b.test", secrets=[BOOTSTRAP])

    assert response.status_code == 403
    assert response.json()["error"] == "bootstrap_platforms_only"
    assert not InboxEvent.objects.exists()


def test_bootstrap_push_must_name_its_sender_as_the_master(client, current_platform):
    rows = [
        wire_row(domain="m.test", master=True),
        wire_row(domain="evil.test"),
    ]
    before = _snapshot()

    response = post_push(
        client, push_body("evil.test", rows), domain="evil.test", secrets=[BOOTSTRAP]
    )

    assert response.status_code == 400
    assert _snapshot() == before


def test_without_a_cluster_token_there_is_no_bootstrap(
    client, current_platform, settings
):
    settings.SYNC_TOKEN = ""
    body, _rows = _joining_push(current_platform)

    response = post_push(client, body, domain="m.test", secrets=[BOOTSTRAP])

    assert response.status_code == 401
    assert response.json()["error"] == "unknown_platform"
    assert not Platform.objects.filter(master=True).exists()


def test_bootstrap_push_signed_with_another_token_is_refused(client, current_platform):
    body, _rows = _joining_push(current_platform)

    response = post_push(
        client, body, domain="m.test", secrets=[secret_from_token("another" * 8)]
    )

    assert response.status_code == 401
    assert not Platform.objects.filter(master=True).exists()
