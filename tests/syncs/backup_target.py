"""A target platform's digest endpoint in memory, for backup tests without HTTP.

It holds the target's records as the target would store them (key -> fields
under the target's names, and their platforms) and answers plan, buckets and
records with the same digest functions as the real endpoint.
"""

import json

from django.apps import apps

from syncs.backup.errors import BackupError
from syncs.digest.hashing import (
    bucket_of,
    buckets_encode,
    digests_combine,
    record_digest,
)
from syncs.digest.records import (
    PLATFORMS_FIELD,
    fields_comparable,
    model_field_names,
    records_data,
)
from syncs.identity import model_identifier, record_key, record_key_digest


class MemoryTarget:
    """Answers a backup's digest requests from a dict of the target's records."""

    def __init__(self, model_label: str, records: dict | None = None) -> None:
        self.model = apps.get_model(model_label)
        self.records = dict(records or {})  # key (JSON text) -> fields
        self.requests = 0
        self.bytes_total = 0
        self.asked: list[dict] = []
        self.refuse_with: str | None = None

    @classmethod
    def copy_of(cls, model_label: str) -> "MemoryTarget":
        """Return a target holding exactly the records this database holds now."""
        target = cls(model_label)
        records = list(target.model._default_manager.all())
        identifier = model_identifier(target.model)
        names = [*model_field_names(target.model), PLATFORMS_FIELD]
        data = records_data(records, fields=names)
        for record, fields in zip(records, data, strict=True):
            target.put(record_key(record, identifier), fields)
        return target

    def put(self, key, fields: dict) -> None:
        self.records[json.dumps(key)] = fields

    def drop(self, key) -> None:
        del self.records[json.dumps(key)]

    def fields_of(self, key) -> dict:
        return self.records[json.dumps(key)]

    def ask(self, payload: dict) -> dict:
        body = json.dumps(payload)
        self.asked.append(payload)
        if self.refuse_with:
            raise BackupError(self.refuse_with)
        answer = getattr(self, f"_{payload['op']}")(payload)
        self.requests += 1
        self.bytes_total += len(body) + len(json.dumps(answer))
        return answer

    def _digested(self, payload: dict):
        for text, fields in self.records.items():
            key = json.loads(text)
            key_digest = record_key_digest(key)
            compared = {name: fields[name] for name in payload["fields"]}
            yield key, key_digest, record_digest(key_digest, compared)

    def _plan(self, payload: dict) -> dict:
        fields = fields_comparable(self.model, payload["fields"])
        return {"fields": fields, "records": len(self.records)}

    def _buckets(self, payload: dict) -> dict:
        digests = [0] * payload["buckets"]
        for _, key_digest, digest in self._digested(payload):
            digests_combine(digests, bucket_of(key_digest, payload["buckets"]), digest)
        return {"buckets": payload["buckets"], "digests": buckets_encode(digests)}

    def _records(self, payload: dict) -> dict:
        found: dict[str, list] = {str(number): [] for number in payload["numbers"]}
        for key, key_digest, digest in self._digested(payload):
            number = str(bucket_of(key_digest, payload["buckets"]))
            if number in found:
                found[number].append([key, digest.hex()])
        return {"records": found}
