"""An event's id and version on the wire, apart from the outbox row's pk.

The target stores an event id once and skips an event whose version is not
newer than the one it applied to the record. So an id is random (never given
twice, whatever outbox rows are deleted), and a version is the time the change
was recorded, in microseconds: a later change of a record gets a larger
version whatever became of the outbox table, a restored backup included, and
larger than every version of the pk-numbered events before it.

A version is as well ordered as the clocks of the hosts that save into one
platform's database. Signatures already need those within minutes of each
other; the one case a skew can misorder is one record saved on two hosts
within that skew, the older save sent last, and the backup repairs it.
Within a process versions strictly increase, even if the clock steps back.
"""

import threading
import time
import uuid

_lock = threading.Lock()
_last_version = 0


def event_id_new() -> str:
    """Return a new event id: 32 hex digits, random."""
    return uuid.uuid4().hex


def event_version_new() -> int:
    """Return the time in microseconds, above every version given before here."""
    global _last_version
    with _lock:
        _last_version = max(time.time_ns() // 1000, _last_version + 1)
        return _last_version
