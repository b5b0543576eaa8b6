"""Find the drift between a sync's source records and its target's.

1. plan: the target says which fields compare and how many records it holds;
2. buckets: both sides digest every bucket, at the same time;
3. records: for the buckets that differ, both sides list key and digest of
   each record, at the same time, in rounds of about ROUND_RECORDS records.

The target answers 2 and 3 in pages (its ``next``, see webhooks.digest); the
source asks page after page and combines them.
"""

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from syncs.backup.client import DigestClient
from syncs.backup.errors import BackupError
from syncs.backup.progress import ProgressFactory
from syncs.digest.hashing import bucket_count, buckets_decode, buckets_differing
from syncs.digest.scan import (
    BucketDigests,
    DigestScope,
    RecordEntry,
    bucket_digests,
    bucket_entries,
)
from syncs.identity import record_key_digest

# The most records (by the source's count) listed in one round: bounds the
# memory of both sides and the size of one answer.
ROUND_RECORDS = 100_000


@dataclass
class Drift:
    """What differs: records to create or update on the target, keys to delete."""

    checked: int = 0
    buckets: int = 0
    buckets_differing: int = 0
    created: list[RecordEntry] = field(default_factory=list)
    updated: list[RecordEntry] = field(default_factory=list)
    deleted: list[Any] = field(default_factory=list)

    @property
    def unchanged(self) -> int:
        return self.checked - len(self.created) - len(self.updated)


@dataclass(frozen=True)
class Exchange:
    """One sync's conversation with its target's digest endpoint."""

    client: DigestClient
    request: dict  # source_model, model, fields
    progress: ProgressFactory
    deletes: bool = True  # False: the source covers only some records (sync_ids)

    def ask(self, op: str, **values) -> dict:
        return self.client.ask(self.request | {"op": op} | values)

    def ask_pages(self, op: str, **values) -> Iterator[dict]:
        """Ask for every page of an answer, from the first to the last."""
        after = None
        while True:
            answer = self.ask(op, **values, after=after)
            yield answer
            after = answer.get("next")
            if after is None:
                return
            if not isinstance(after, str):
                raise BackupError("The target's next page is malformed.")


def drift_plan(exchange: Exchange) -> tuple[list[str], int]:
    """Return the fields the target compares and the records it holds."""
    answer = exchange.ask("plan")
    fields, records = answer.get("fields"), answer.get("records")
    if not isinstance(fields, list) or not isinstance(records, int):
        raise BackupError("The target's digest plan is malformed.")
    if not set(fields) <= set(exchange.request["fields"]):
        raise BackupError("The target compares fields the source did not name.")
    return fields, records


def _measured(exchange: Exchange, description: str, total: int, walk: Callable):
    """Run ``walk`` with a progress bar's update; close the bar whatever happens."""
    bar = exchange.progress(description, total)
    try:
        return walk(bar.update)
    finally:
        bar.close()


def _buckets_compare(
    exchange: Exchange,
    scope: DigestScope,
    buckets: int,
    total: int,
    pool: ThreadPoolExecutor,
) -> tuple[BucketDigests, list[int]]:
    theirs = pool.submit(_their_digests, exchange, buckets)
    ours = _measured(
        exchange,
        "digests",
        total,
        lambda progress: bucket_digests(scope, buckets=buckets, progress=progress),
    )
    return ours, buckets_differing(ours.digests, theirs.result())


def _their_digests(exchange: Exchange, buckets: int) -> list[int]:
    """Return the target's bucket digests, its pages combined."""
    digests = [0] * buckets
    for answer in exchange.ask_pages("buckets", buckets=buckets):
        try:
            page = buckets_decode(str(answer.get("digests")), buckets)
        except ValueError as exc:
            raise BackupError(
                f"The target's bucket digests are malformed: {exc}"
            ) from None
        digests = [ours ^ theirs for ours, theirs in zip(digests, page, strict=True)]
    return digests


def _rounds(differing: list[int], counts: list[int]) -> list[list[int]]:
    rounds: list[list[int]] = [[]]
    size = 0
    for number in differing:
        if rounds[-1] and size + counts[number] > ROUND_RECORDS:
            rounds.append([])
            size = 0
        rounds[-1].append(number)
        size += counts[number]
    return [numbers for numbers in rounds if numbers]


def _their_entries(
    exchange: Exchange, buckets: int, numbers: list[int]
) -> dict[int, dict[str, tuple[Any, str]]]:
    """Return the target's records of the buckets: key digest -> (key, digest)."""
    malformed = BackupError("The target's bucket records are malformed.")
    found: dict[int, dict[str, tuple[Any, str]]] = {number: {} for number in numbers}
    for answer in exchange.ask_pages("records", buckets=buckets, numbers=numbers):
        records = answer.get("records")
        if not isinstance(records, dict):
            raise malformed
        try:
            for number in numbers:
                for key, digest in records.get(str(number), []):
                    found[number][record_key_digest(key)] = (key, digest)
        except (TypeError, ValueError):
            raise malformed from None
    return found


def _bucket_compare(drift: Drift, ours: dict, theirs: dict, deletes: bool) -> None:
    for key_digest, entry in ours.items():
        if key_digest not in theirs:
            drift.created.append(entry)
        elif theirs[key_digest][1] != entry.digest:
            drift.updated.append(entry)
    if deletes:
        drift.deleted += [key for kd, (key, _) in theirs.items() if kd not in ours]


def _round_compare(
    exchange: Exchange,
    scope: DigestScope,
    drift: Drift,
    numbers: list[int],
    total: int,
    pool: ThreadPoolExecutor,
) -> None:
    theirs = pool.submit(_their_entries, exchange, drift.buckets, numbers)
    ours = _measured(
        exchange,
        "records",
        total,
        lambda progress: bucket_entries(
            scope, buckets=drift.buckets, numbers=set(numbers), progress=progress
        ),
    )
    their_entries = theirs.result()
    for number in numbers:
        _bucket_compare(drift, ours[number], their_entries[number], exchange.deletes)


def drift_find(exchange: Exchange, scope: DigestScope, *, target_records: int) -> Drift:
    """Compare the scope's records with the target's; return what differs."""
    total = scope.queryset.count()
    drift = Drift(buckets=bucket_count(max(total, target_records)))
    # One thread asks the target while this one digests the source: the two
    # platforms do the same work at the same time.
    with ThreadPoolExecutor(max_workers=1) as pool:
        ours, differing = _buckets_compare(exchange, scope, drift.buckets, total, pool)
        drift.checked = sum(ours.counts)
        drift.buckets_differing = len(differing)
        for numbers in _rounds(differing, ours.counts):
            _round_compare(exchange, scope, drift, numbers, total, pool)
    return drift
