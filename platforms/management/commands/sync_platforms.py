"""Push the platform list to every platform now (SyncPlatformJob by hand)."""

from django.core.management.base import BaseCommand, CommandError

from platforms.services import PlatformPushError, platforms_push_all


class Command(BaseCommand):
    help = (
        "Push every platform row, credentials included, to every other platform "
        "through the signed webhook. Run it on the master. Platforms missing "
        "from the list are deleted on the receivers, except a receiver's own row "
        "and rows its syncs still use. Fails when a platform could not be "
        "updated; the others are updated all the same."
    )

    def handle(self, *args, **options):
        try:
            outcomes = platforms_push_all()
        except PlatformPushError as exc:
            raise CommandError(str(exc)) from None
        if options["verbosity"] >= 1:
            self.report_print(outcomes)
        failed = [outcome.domain for outcome in outcomes if not outcome.ok]
        if failed:
            raise CommandError(
                f"{len(failed)} of {len(outcomes)} platform(s) did not take the "
                f"list: {', '.join(failed)}. The next run tries them again."
            )

    def report_print(self, outcomes) -> None:
        if not outcomes:
            self.stdout.write("No other platform to push to.")
        for outcome in outcomes:
            if outcome.ok:
                status = self.style.SUCCESS("ok")
            else:
                status = self.style.ERROR("failed")
            self.stdout.write(f"{outcome.domain}: {status}: {outcome.detail}")
