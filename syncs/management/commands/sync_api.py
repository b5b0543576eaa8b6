"""Pull this platform's syncs from the master now (SyncApiJob by hand)."""

from django.core.management.base import BaseCommand, CommandError

from syncs.pull import PullError, PullReport, syncs_pull


class Command(BaseCommand):
    help = (
        "Read the syncs whose source or target is this platform from the master's "
        "API and make the local syncs table match: create and change them by "
        "uuid, delete the ones the master no longer has. The listener follows "
        "without a restart."
    )

    def handle(self, *args, **options):
        try:
            report = syncs_pull()
        except PullError as exc:
            raise CommandError(str(exc)) from None
        if options["verbosity"] >= 1:
            self.report_print(report)

    def report_print(self, report: PullReport) -> None:
        if report.is_master:
            self.stdout.write(
                f"{report.master} is the master: its syncs are its own, nothing "
                "to pull."
            )
            return
        self.stdout.write(f"Pulled the syncs from the master {report.master}.")
        for kind in ("created", "updated", "deleted"):
            for title in getattr(report, kind):
                self.stdout.write(f"  {kind}: {title}")
        for reason in report.skipped:
            self.stdout.write(self.style.WARNING(f"  skipped: {reason}"))
        if not (report.created or report.updated or report.deleted):
            self.stdout.write("  No changes.")
