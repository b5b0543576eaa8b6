"""Repair the drift between this platform's syncs and their targets (SyncBackupJob)."""

import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from syncs.backup.errors import BackupError
from syncs.backup.selectors import sync_for_backup, syncs_for_backup
from syncs.backup.services import sync_backup


class Command(BaseCommand):
    help = (
        "Make the targets of this platform's active syncs equal to their sources: "
        "compare bucket digests with each target, then send only the records that "
        "differ or are missing there, and deletes for the records the source no "
        "longer has, through the outbox like any other change."
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

    def handle(self, *args, **options):
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
        failed = [sync for sync in syncs if not self.backup(sync, options)]
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
