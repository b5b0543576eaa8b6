import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from platforms.credentials import signing_secret_generate
from platforms.signing import (
    SignatureError,
    delivery_headers,
    delivery_sign,
    key_pair_generate,
    key_sign,
    private_key_valid,
    public_key_of,
    public_key_valid,
    secret_from_token,
    signature_verify,
)

SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TS = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_signature_matches_the_standard_webhooks_test_vector():
    signature = delivery_sign(
        secret=SPEC_SECRET, msg_id=SPEC_ID, timestamp=SPEC_TS, body=SPEC_BODY
    )
    assert signature == SPEC_SIGNATURE


def _verify(**overrides):
    kwargs = {
        "secrets": [SPEC_SECRET],
        "msg_id": SPEC_ID,
        "timestamp": str(SPEC_TS),
        "signature_header": SPEC_SIGNATURE,
        "body": SPEC_BODY,
        "tolerance": 300,
        "now": SPEC_TS + 10,
    }
    signature_verify(**(kwargs | overrides))


def test_valid_signature_verifies():
    _verify()


def test_one_of_several_signatures_and_secrets_is_enough():
    _verify(
        secrets=[signing_secret_generate(), SPEC_SECRET],
        signature_header=f"v1,bm9wZQ== {SPEC_SIGNATURE}",
    )


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"body": b'{"test": 2432232315}'}, "invalid_signature"),
        ({"msg_id": "msg_other"}, "invalid_signature"),
        ({"secrets": [signing_secret_generate()]}, "invalid_signature"),
        ({"now": SPEC_TS + 301}, "stale_timestamp"),
        ({"now": SPEC_TS - 301}, "stale_timestamp"),
        ({"timestamp": "yesterday"}, "invalid_timestamp"),
        ({"signature_header": ""}, "missing_signature"),
        ({"signature_header": "v2,abc"}, "invalid_signature"),
    ],
)
def test_tampered_or_stale_message_is_refused(overrides, code):
    with pytest.raises(SignatureError) as caught:
        _verify(**overrides)
    assert caught.value.code == code


def test_headers_sign_the_current_time():
    secret = signing_secret_generate()
    headers = delivery_headers(secrets=[secret], msg_id="msg_1", body=b"{}")
    signature_verify(
        secrets=[secret],
        msg_id=headers["webhook-id"],
        timestamp=headers["webhook-timestamp"],
        signature_header=headers["webhook-signature"],
        body=b"{}",
        tolerance=5,
    )


def test_secret_from_token_is_stable_and_token_specific():
    assert secret_from_token("a" * 40) == secret_from_token("a" * 40)
    assert secret_from_token("a" * 40) != secret_from_token("b" * 40)
    assert secret_from_token("a" * 40).startswith("whsec_")


# --- v1a: Ed25519 key pairs ------------------------------------------------------

# RFC 8032, section 7.1, TEST 1: a secret key and the public key it has.
RFC_SECRET = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
RFC_PUBLIC = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
RFC_PRIVATE_KEY = "whsk_" + base64.b64encode(bytes.fromhex(RFC_SECRET)).decode()
RFC_PUBLIC_KEY = "whpk_" + base64.b64encode(bytes.fromhex(RFC_PUBLIC)).decode()


def _verify_keyed(header: str, **overrides):
    kwargs = {
        "public_keys": [RFC_PUBLIC_KEY],
        "msg_id": SPEC_ID,
        "timestamp": str(SPEC_TS),
        "signature_header": header,
        "body": SPEC_BODY,
        "tolerance": 300,
        "now": SPEC_TS + 10,
    }
    return signature_verify(**(kwargs | overrides))


def test_keys_are_the_specs_whsk_and_whpk_forms_of_an_ed25519_pair():
    assert public_key_of(RFC_PRIVATE_KEY) == RFC_PUBLIC_KEY
    private_key, public_key = key_pair_generate()
    assert private_key_valid(private_key) and public_key_valid(public_key)
    assert public_key_of(private_key) == public_key
    assert not public_key_valid("whpk_" + "A" * 10) and not public_key_valid(
        private_key
    )


def test_v1a_signs_id_timestamp_and_body_with_ed25519():
    signature = key_sign(
        private_key=RFC_PRIVATE_KEY, msg_id=SPEC_ID, timestamp=SPEC_TS, body=SPEC_BODY
    )

    # What the specification defines, computed by cryptography directly.
    signed = f"{SPEC_ID}.{SPEC_TS}.".encode() + SPEC_BODY
    raw = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(RFC_SECRET)).sign(signed)
    assert signature == "v1a," + base64.b64encode(raw).decode()
    assert _verify_keyed(signature) == RFC_PUBLIC_KEY


@pytest.mark.parametrize(
    "overrides",
    [
        {"body": b'{"test": 1}'},
        {"msg_id": "msg_other"},
        {"public_keys": [key_pair_generate()[1]]},
    ],
)
def test_v1a_refuses_another_body_id_or_key(overrides):
    signature = key_sign(
        private_key=RFC_PRIVATE_KEY, msg_id=SPEC_ID, timestamp=SPEC_TS, body=SPEC_BODY
    )
    with pytest.raises(SignatureError) as caught:
        _verify_keyed(signature, **overrides)
    assert caught.value.code == "invalid_signature"


def test_v1a_is_not_accepted_as_v1_nor_a_secret_as_a_key():
    keyed = key_sign(
        private_key=RFC_PRIVATE_KEY, msg_id=SPEC_ID, timestamp=SPEC_TS, body=SPEC_BODY
    )
    with pytest.raises(SignatureError):
        _verify_keyed(SPEC_SIGNATURE)  # the HMAC signature, keys trusted only
    with pytest.raises(SignatureError):
        _verify_keyed(keyed.replace("v1a,", "v1,"), secrets=[SPEC_SECRET])
    with pytest.raises(SignatureError):
        _verify_keyed("v1a,not-base64!")


def test_headers_carry_one_signature_per_key_and_secret():
    private_key, public_key = key_pair_generate()
    headers = delivery_headers(
        msg_id="msg_1", body=b"{}", private_keys=[private_key], secrets=[SPEC_SECRET]
    )
    schemes = [part.split(",")[0] for part in headers["webhook-signature"].split()]
    assert schemes == ["v1a", "v1"]
    assert (
        signature_verify(
            public_keys=[public_key],
            msg_id="msg_1",
            timestamp=headers["webhook-timestamp"],
            signature_header=headers["webhook-signature"],
            body=b"{}",
            tolerance=5,
        )
        == public_key
    )
