"""Record digests, buckets and their wire form: pure functions, no database."""

import base64
import hashlib
import json

from django.core.serializers.json import DjangoJSONEncoder

# Records per bucket the bucket count aims at: small enough that a changed
# record costs a short list of its neighbours, large enough that the bucket
# digests of an unchanged table are a small fraction of the table.
RECORDS_PER_BUCKET = 32
MAX_BUCKETS = 2**16
DIGEST_BYTES = 8


def bucket_count(records: int) -> int:
    """Return the buckets for a table of ``records``: a power of two, growing."""
    wanted = max(1, -(-records // RECORDS_PER_BUCKET))
    return min(MAX_BUCKETS, 1 << (wanted - 1).bit_length())


def bucket_count_valid(buckets: int) -> bool:
    """Tell whether ``buckets`` is a bucket count both sides may use."""
    return 1 <= buckets <= MAX_BUCKETS and buckets & (buckets - 1) == 0


def bucket_of(key_digest: str, buckets: int) -> int:
    """Return the bucket of a record by its key digest (hex, see record_key_digest)."""
    return int(key_digest[:8], 16) % buckets


def canonical_json(data) -> bytes:
    """Return ``data`` as JSON with sorted keys and no spaces.

    Values are encoded as the wire encodes them (DjangoJSONEncoder), so a
    datetime compares at the millisecond precision it travels with.
    """
    return json.dumps(
        data,
        cls=DjangoJSONEncoder,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()


def record_digest(key_digest: str, data: dict) -> bytes:
    """Return the digest of one record: its key and its compared fields."""
    signed = key_digest.encode() + b"\n" + canonical_json(data)
    return hashlib.sha256(signed).digest()[:DIGEST_BYTES]


def digests_combine(digests: list[int], bucket: int, digest: bytes) -> None:
    """Fold a record's digest into its bucket's (XOR: the order does not count)."""
    digests[bucket] ^= int.from_bytes(digest, "big")


def buckets_encode(digests: list[int]) -> str:
    """Return bucket digests as one base64 string (8 bytes each)."""
    raw = b"".join(d.to_bytes(DIGEST_BYTES, "big") for d in digests)
    return base64.b64encode(raw).decode()


def buckets_decode(text: str, buckets: int) -> list[int]:
    """Read bucket digests written by buckets_encode; raise ValueError if malformed."""
    raw = base64.b64decode(text.encode(), validate=True)
    if len(raw) != buckets * DIGEST_BYTES:
        raise ValueError(f"expected {buckets} bucket digests")
    return [
        int.from_bytes(raw[i : i + DIGEST_BYTES], "big")
        for i in range(0, len(raw), DIGEST_BYTES)
    ]


def buckets_differing(ours: list[int], theirs: list[int]) -> list[int]:
    """Return the numbers of the buckets whose digests differ."""
    return [
        b
        for b, (mine, other) in enumerate(zip(ours, theirs, strict=True))
        if mine != other
    ]
