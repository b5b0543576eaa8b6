"""The signed endpoints' one base: parsing a body and answering a refusal."""

import pytest
from rest_framework.views import APIView

from platforms.api.errors import api_exception_handler
from webhooks.signed import MAX_DEPTH, SignedRequestRefused, body_parse

# --- parsing --------------------------------------------------------------------------


def test_parse_returns_plain_json():
    assert body_parse(b'{"a": [1, "\\u00e9", null, true]}') == {
        "a": [1, "\u00e9", None, True]
    }


@pytest.mark.parametrize(
    "body",
    [
        b'{"a": NaN}',
        b'{"a": Infinity}',
        b'{"a": -Infinity}',
        b'{"a": "\\u0000"}',
        b'{"\\u0000": 1}',
        b'{"a": "\\ud800"}',
        b'["\\udc00"]',
        b"\xff",
        b"[" * (MAX_DEPTH + 2) + b"]" * (MAX_DEPTH + 2),
        b"[" * 100_000,
    ],
)
def test_parse_refuses_what_no_database_can_store(body):
    with pytest.raises(ValueError):
        body_parse(body)


def test_parse_accepts_data_nested_up_to_the_limit():
    body = b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1)

    assert body_parse(body) is not None


def test_parse_accepts_a_surrogate_pair():
    assert body_parse(b'"\\ud83d\\ude00"') == "\U0001f600"


# --- refusals -------------------------------------------------------------------------


def _answer(exc: Exception):
    return api_exception_handler(exc, {"view": APIView(), "request": None})


def test_a_refusal_is_answered_with_its_status_code_and_detail():
    response = _answer(SignedRequestRefused("too_large", "Too big.", 413))

    assert response.status_code == 413
    assert response.data == {"error": "too_large", "detail": "Too big."}


def test_a_refusal_answers_its_extra_fields_too():
    refusal = SignedRequestRefused("incomplete", "Holds 4 of 8 bytes.", 409, received=4)

    response = _answer(refusal)

    assert response.status_code == 409
    assert response.data == {
        "error": "incomplete",
        "detail": "Holds 4 of 8 bytes.",
        "received": 4,
    }
