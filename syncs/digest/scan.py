"""Walk one side's records in chunks: bucket digests, and entries of some buckets.

Memory stays bounded: a walk holds one chunk of records, one integer per
bucket, and entries only for the buckets asked for. Chunks are keyset pages
(pk above the last one seen, in pk order), so no database holds a cursor open
over the table, and a walk given a Page stops when its time is up and says
where the next one starts.
"""

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import models

from syncs.digest.hashing import bucket_of, digests_combine, record_digest
from syncs.digest.records import digest_queryset, key_queryset, records_data
from syncs.identity import NATURAL_KEY, record_key, record_key_digest

CHUNK_SIZE = 2000
Progress = Callable[[int], None]


def _no_progress(count: int) -> None:
    pass


@dataclass(frozen=True)
class DigestScope:
    """One side's records as its digests see them."""

    queryset: models.QuerySet
    identifier: str
    # Records -> the fields compared, under the target's names.
    data: Callable[[list[models.Model]], list[dict]]
    # Which records count (None: all of them).
    keep: Callable[[models.Model], bool] | None = None


@dataclass(frozen=True)
class RecordEntry:
    """One record of a bucket: its key, its digest (hex) and its local pk."""

    key: Any
    digest: str
    pk: str


@dataclass
class BucketDigests:
    """The digest and the number of records of every bucket."""

    digests: list[int]
    counts: list[int]


def model_scope(
    model: type[models.Model], *, identifier: str, fields: list[str]
) -> DigestScope:
    """Return the scope of every record of ``model``, compared on ``fields``."""

    def data(records: list[models.Model]) -> list[dict]:
        return records_data(records, fields=fields)

    return DigestScope(digest_queryset(model), identifier, data)


class Page:
    """Where a walk starts (``after``: a pk) and for how long it may walk.

    After the walk, ``next`` is the last pk it read if it stopped before the
    end (None: it reached the end).
    """

    def __init__(self, *, after=None, seconds: float | None = None) -> None:
        self.after = after
        self.deadline = None if seconds is None else time.monotonic() + seconds
        self.next = None

    def over(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline


def _chunks(
    scope: DigestScope,
    progress: Progress,
    queryset: models.QuerySet | None = None,
    page: Page | None = None,
) -> Iterator[list[models.Model]]:
    queryset = scope.queryset if queryset is None else queryset
    page = page or Page()
    last = page.after
    while True:
        rest = queryset if last is None else queryset.filter(pk__gt=last)
        chunk = list(rest[:CHUNK_SIZE])
        if not chunk:
            return
        last = chunk[-1].pk
        yield _kept(scope, chunk)
        progress(len(chunk))
        if len(chunk) < CHUNK_SIZE:
            return
        if page.over():
            page.next = last
            return


def _kept(scope: DigestScope, chunk: list[models.Model]) -> list[models.Model]:
    return chunk if scope.keep is None else [r for r in chunk if scope.keep(r)]


def record_key_of(record: models.Model, identifier: str):
    """Return record_key(record, identifier), sparing it its JSON round trip.

    The round trip turns values such as a UUID into what JSON carries; keys
    of strings and integers, nearly all of them, are that already.
    """
    if identifier == NATURAL_KEY:
        key = list(record.natural_key())
    else:
        key = getattr(record, identifier)
    parts = key if isinstance(key, list) else [key]
    if all(type(part) in (str, int) for part in parts):
        return key
    return record_key(record, identifier)


def _keyed(scope: DigestScope, records: list[models.Model]):
    for record in records:
        key = record_key_of(record, scope.identifier)
        yield record, key, record_key_digest(key)


def bucket_digests(
    scope: DigestScope,
    *,
    buckets: int,
    progress: Progress = _no_progress,
    page: Page | None = None,
) -> BucketDigests:
    """Return the digest and size of every bucket of the scope's records.

    Of the records of ``page`` only, when given.
    """
    found = BucketDigests(digests=[0] * buckets, counts=[0] * buckets)
    for chunk in _chunks(scope, progress, page=page):
        keyed = list(_keyed(scope, chunk))
        for (_, _, key_digest), data in zip(keyed, scope.data(chunk), strict=True):
            bucket = bucket_of(key_digest, buckets)
            digests_combine(found.digests, bucket, record_digest(key_digest, data))
            found.counts[bucket] += 1
    return found


def bucket_entries(
    scope: DigestScope,
    *,
    buckets: int,
    numbers: set[int],
    progress: Progress = _no_progress,
    page: Page | None = None,
) -> dict[int, dict[str, RecordEntry]]:
    """Return the records of the buckets ``numbers``, by bucket and key digest.

    Of the records of ``page`` only, when given.
    """
    found: dict[int, dict[str, RecordEntry]] = {number: {} for number in numbers}
    # Keys are cheap, fields are not: walk the keys alone, then load and
    # serialize only the records of the buckets asked for.
    keys = key_queryset(scope.queryset, scope.identifier)
    for chunk in _chunks(scope, progress, keys, page):
        picked = {
            record.pk: (key, key_digest)
            for record, key, key_digest in _keyed(scope, chunk)
            if bucket_of(key_digest, buckets) in numbers
        }
        records = list(scope.queryset.filter(pk__in=picked)) if picked else []
        for record, fields in zip(records, scope.data(records), strict=True):
            key, key_digest = picked[record.pk]
            found[bucket_of(key_digest, buckets)][key_digest] = RecordEntry(
                key=key,
                digest=record_digest(key_digest, fields).hex(),
                pk=str(record.pk),
            )
    return found
