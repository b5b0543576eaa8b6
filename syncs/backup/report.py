"""What one backup of one sync found and sent."""

from dataclasses import asdict, dataclass


def _size(count: int) -> str:
    for unit in ("B", "KB", "MB"):
        if count < 1000 or unit == "MB":
            return f"{count} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    return ""  # unreachable


def _counted(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


@dataclass
class BackupReport:
    """Counts, bytes and time of one sync's backup."""

    sync_id: int
    title: str
    dry_run: bool
    checked: int
    created: int
    updated: int
    deleted: int
    unchanged: int
    buckets: int
    buckets_differing: int
    exchange_requests: int
    exchange_bytes: int
    repair_webhooks: int
    repair_bytes: int
    seconds: float
    # The target held no records: the initial fill sends them (syncs.fill).
    filled: bool = False

    @property
    def bytes_total(self) -> int:
        return self.exchange_bytes + self.repair_bytes

    def as_dict(self) -> dict:
        return asdict(self) | {"bytes_total": self.bytes_total}

    def as_text(self) -> str:
        """Return the report as two lines for a terminal."""
        if self.filled:
            verb = "would start" if self.dry_run else "started"
            return (
                f"Sync {self.sync_id} ({self.title}): the target holds no records; "
                f"{verb} its initial fill of {self.created} records instead of "
                f"comparing{' (dry run: nothing written)' if self.dry_run else ''}\n"
                f"  follow it with sync_backup --fill --sync {self.sync_id}; "
                f"{self.seconds:.1f} s"
            )
        verb = "would send" if self.dry_run else "sent"
        return (
            f"Sync {self.sync_id} ({self.title}): checked {self.checked}, "
            f"created {self.created}, updated {self.updated}, "
            f"deleted {self.deleted}, unchanged {self.unchanged}"
            f"{' (dry run: nothing written)' if self.dry_run else ''}\n"
            f"  {verb} {_size(self.bytes_total)}: digests {_size(self.exchange_bytes)}"
            f" in {_counted(self.exchange_requests, 'request')} "
            f"({self.buckets_differing} of {self.buckets} buckets differ), repair "
            f"{_size(self.repair_bytes)} in "
            f"{_counted(self.repair_webhooks, 'webhook')}; {self.seconds:.1f} s"
        )
