"""Generated hostile requests to the digest and file endpoints: never a 5xx.

Validly signed (the signature is no defence against a known platform that
sends garbage) with bodies near the real ones: wrong types, integers past 64
bits, number literals no float holds, names that leave the storage.
"""

import base64
import json

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from demoapp.models import Document
from platforms.conf import sync_settings
from syncs.files.transfer import files_url_path
from tests.factories import PlatformFactory, SyncFactory, UserFactory
from tests.filesync import file_body, file_sync  # noqa: F401  (fixture)
from tests.webhooks.signed import signed_headers
from webhooks.models import InboxEvent

pytestmark = pytest.mark.django_db

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
BIG = st.integers(min_value=2**63, max_value=10**30) | st.integers(
    max_value=-(2**63) - 1, min_value=-(10**30)
)
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | BIG
    | st.floats()
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)
NUMBER_LITERALS = st.sampled_from(["1e400", "-1e999", "1e-400", "1" + "0" * 30])


@pytest.fixture
def sender(settings):
    source = PlatformFactory(name="B", domain="b.test")
    here = PlatformFactory(name="A", domain=sync_settings.SYNC_PLATFORM_DOMAIN)
    SyncFactory(source_platform=source, target_platform=here)
    SyncFactory(
        source_platform=source,
        target_platform=here,
        source_model="demoapp.Document",
        target_model="demoapp.Document",
    )
    UserFactory(username="alice")
    Document.objects.create(slug="doc", title="Doc")
    return source


def _post(client, url: str, body: bytes, sender):
    headers = signed_headers(body, secret=sender.signing_secret, domain=sender.domain)
    return client.post(url, data=body, content_type="application/json", headers=headers)


def _mutated(draw, valid: dict) -> bytes:
    """Return ``valid`` with some fields replaced, dropped or made odd numbers."""
    payload = dict(valid)
    literals = []
    for name in draw(st.lists(st.sampled_from(sorted(valid)), max_size=3)):
        change = draw(st.sampled_from(["value", "drop", "number"]))
        if change == "value":
            payload[name] = draw(JSON)
        elif change == "drop":
            payload.pop(name, None)
        else:
            payload[name] = f"NUMBER{len(literals)}"
            literals.append(draw(NUMBER_LITERALS))
    body = json.dumps(payload).encode()
    for index, literal in enumerate(literals):
        body = body.replace(f'"NUMBER{index}"'.encode(), literal.encode())
    return body


def _assert_answered(answer) -> None:
    assert answer.status_code < 500, answer.content[:300]
    body = answer.json()
    if answer.status_code >= 400:
        assert body["error"] and body["detail"]


@st.composite
def digest_requests(draw) -> bytes:
    valid = {
        "op": draw(st.sampled_from(["plan", "buckets", "records"])),
        "source_model": "auth.User",
        "model": "auth.User",
        "fields": ["email", "username"],
        "buckets": draw(st.sampled_from([1, 2, 4, 1024])),
        "numbers": draw(st.lists(st.integers(0, 3), max_size=3)),
    }
    return _mutated(draw, valid)


@given(body=digest_requests())
@FUZZ
def test_digest_requests_with_a_valid_signature_never_fail_on_the_server(
    client, sender, body
):
    _assert_answered(_post(client, reverse("sync-digest"), body, sender))
    assert not InboxEvent.objects.exists()


@st.composite
def file_requests(draw) -> tuple[str, bytes]:
    content = draw(st.binary(max_size=8))
    action = draw(st.sampled_from(["check", "chunk", "finalize"]))
    valid = file_body(content, key="doc") | {
        "offset": draw(st.integers(0, 8)),
        "data": base64.b64encode(content).decode(),
    }
    return action, _mutated(draw, valid)


@pytest.mark.usefixtures("file_sync")
@given(file_request=file_requests())
@FUZZ
def test_file_requests_with_a_valid_signature_never_fail_on_the_server(
    client, sender, file_request
):
    action, body = file_request

    _assert_answered(_post(client, files_url_path(action), body, sender))

    document = Document.objects.get(slug="doc")
    assert not document.attachment or document.attachment.name.startswith("documents/")


def test_property_tests_draw_the_same_examples_on_every_run():
    """make test derandomizes (tests/conftest.py); make fuzz does not."""
    if not settings.default.derandomize:
        pytest.skip("make fuzz: fresh randomness")
    drawn: list = []

    @given(st.lists(st.integers() | st.text(), max_size=3))
    def draw(value) -> None:
        drawn.append(value)

    draw()
    first, drawn[:] = list(drawn), []
    draw()

    assert drawn == first
