"""Repair the drift between this platform's syncs and their targets (SyncBackupJob)."""

import sys
import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from syncs.backup.errors import BackupError
from syncs.backup.selectors import sync_for_backup, syncs_for_backup
from syncs.backup.services import sync_backup
from syncs.fill import FillError, fill_start
from syncs.models import SyncFill

# Seconds between two looks at a fill's progress, and without any progress
# before the command says what may be missing.
POLL_SECONDS = 0.5
STALL_SECONDS = 30


class Command(BaseCommand):
    help = (
        "Make the targets of this platform's active syncs equal to their sources: "
        "compare bucket digests with each target, then send only the records that "
        "differ or are missing there, and deletes for the records the source no "
        "longer has, through the outbox like any other change. With --fill, send "
        "every record instead (the initial fill) and show its progress."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--sync", type=int, metavar="ID", help="Back up only the sync ID."
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Compare and report, but write nothing and send no repair.",
        )
        parser.add_argument(
            "--fill",
            action="store_true",
            help=(
                "Send every record instead of comparing (the initial fill): start "
                "it, or follow the one running, and show its progress until it "
                "ends. The Celery workers send; Ctrl-C stops following, not the fill."
            ),
        )

    def handle(self, *args, **options):
        if options["fill"] and options["dry_run"]:
            raise CommandError("--fill sends every record; it has no --dry-run.")
        try:
            syncs = (
                [sync_for_backup(options["sync"])]
                if options["sync"] is not None
                else syncs_for_backup()
            )
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        if not syncs and options["verbosity"] >= 1:
            self.stdout.write("No active syncs send from this platform.")
        run = self.fill if options["fill"] else self.backup
        failed = [sync for sync in syncs if not run(sync, options)]
        if failed:
            raise CommandError(
                f"{len(failed)} of {len(syncs)} backups failed: "
                + ", ".join(str(sync.pk) for sync in failed)
            )

    def backup(self, sync, options) -> bool:
        """Back up one sync and print its report; False if it failed."""
        quiet = options["verbosity"] == 0

        def progress(description: str, total: int | None):
            # tqdm shows nothing when stderr is not a terminal (disable=None).
            return tqdm(
                desc=f"sync {sync.pk}: {description}",
                total=total,
                unit=" records",
                leave=False,
                file=sys.stderr,
                disable=True if quiet else None,
            )

        try:
            report = sync_backup(
                sync=sync, dry_run=options["dry_run"], progress=progress
            )
        except BackupError as exc:
            self.stderr.write(self.style.ERROR(f"Sync {sync.pk} ({sync}): {exc}"))
            return False
        if not quiet:
            self.stdout.write(report.as_text())
        return True

    def fill(self, sync, options) -> bool:
        """Start the sync's fill (or join the running one) and follow it.

        Return False if it failed.
        """
        fill = SyncFill.objects.filter(pk=sync.pk).first()
        if fill is None or fill.status != SyncFill.Status.RUNNING:
            try:
                fill_start(sync)
            except FillError as exc:
                self.stderr.write(self.style.ERROR(f"Sync {sync.pk} ({sync}): {exc}"))
                return False
        fill = self.follow(sync, quiet=options["verbosity"] == 0)
        if fill.status == SyncFill.Status.FAILED:
            self.stderr.write(
                self.style.ERROR(f"Sync {sync.pk} ({sync}): fill failed: {fill.error}")
            )
            return False
        if options["verbosity"]:
            filled = f"filled, {fill.queued} records"
            self.stdout.write(f"Sync {sync.pk} ({sync}): {filled}.")
        return True

    def follow(self, sync, *, quiet: bool) -> SyncFill:
        """Show the fill's progress until it is no longer running; return it."""
        bar = tqdm(
            desc=f"sync {sync.pk}: fill",
            unit=" records",
            file=sys.stderr,
            disable=True if quiet else None,
        )
        moved_at, done = time.monotonic(), 0
        try:
            while True:
                fill = SyncFill.objects.get(pk=sync.pk)
                bar.total = fill.total
                bar.update(fill.delivered - bar.n)
                if fill.status != SyncFill.Status.RUNNING:
                    return fill
                if fill.delivered != done:
                    moved_at, done = time.monotonic(), fill.delivered
                elif time.monotonic() - moved_at > STALL_SECONDS:
                    self.stderr.write(
                        f"Sync {sync.pk}: no progress for {STALL_SECONDS} s; is a "
                        "Celery worker running, and the target reachable?"
                    )
                    moved_at = time.monotonic()
                time.sleep(POLL_SECONDS)
        finally:
            bar.close()
