import pytest

from platforms.credentials import signing_secret_generate
from platforms.signing import (
    SignatureError,
    delivery_headers,
    delivery_sign,
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
    headers = delivery_headers(secret=secret, msg_id="msg_1", body=b"{}")
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
