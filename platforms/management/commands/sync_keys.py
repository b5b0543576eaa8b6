"""List, rotate and retire signing material (on the master)."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.timesince import timesince

from platforms.keys import platform_key_issue
from platforms.models import Platform, PlatformKey
from platforms.selectors import platform_current_is_master
from platforms.services import PlatformPushError, platforms_push_all


class Command(BaseCommand):
    help = (
        "List every platform's signing keys: age, retirement, last use here. "
        "On the master, --rotate DOMAIN issues that platform a new key (the old "
        "one verifies for --overlap seconds more) and --retire-secrets removes "
        "the shared whsec_ secrets of a cluster that has upgraded; both push the "
        "platform list afterwards. Private keys are never printed."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--rotate",
            metavar="DOMAIN",
            action="append",
            default=[],
            help="Issue a new key for the platform with this domain (repeatable).",
        )
        parser.add_argument(
            "--overlap",
            type=int,
            metavar="SECONDS",
            help="How long the old key still verifies (SYNC_KEY_OVERLAP_SECONDS).",
        )
        parser.add_argument(
            "--retire-secrets",
            action="store_true",
            help="Blank every platform's shared secret: only keys sign from now on.",
        )

    def handle(self, *args, **options):
        changing = options["rotate"] or options["retire_secrets"]
        if changing:
            if not platform_current_is_master():
                raise CommandError(
                    "Only the master issues keys and retires secrets; run this there."
                )
            if options["overlap"] is not None and options["overlap"] < 0:
                raise CommandError("--overlap takes a number of seconds, 0 or more.")
            self.rotate(options["rotate"], options["overlap"])
            if options["retire_secrets"]:
                count = Platform.objects.exclude(signing_secret="").update(
                    signing_secret=""
                )
                self.stdout.write(f"Removed the shared secret of {count} platform(s).")
        if options["verbosity"] >= 1:
            self.keys_print()
        if changing:
            self.push()

    def rotate(self, domains: list[str], overlap: int | None) -> None:
        for domain in domains:
            platform = Platform.objects.filter(domain=domain.lower()).first()
            if platform is None:
                raise CommandError(f"There is no platform with the domain {domain}.")
            key = platform_key_issue(platform=platform, overlap_seconds=overlap)
            self.stdout.write(
                f"{platform.domain}: new key {key.public_key[:17]}… issued."
            )

    def keys_print(self) -> None:
        now = timezone.now()
        for key in PlatformKey.objects.select_related("platform").order_by(
            "platform__domain", "created_at"
        ):
            retires = (
                "current"
                if key.retires_at is None
                else f"retires in {timesince(now, key.retires_at)}"
                if key.retires_at > now
                else "retired"
            )
            used = (
                f"last used here {timesince(key.last_used_at)} ago"
                if key.last_used_at
                else "not used here"
            )
            self.stdout.write(
                f"{key.platform.domain}: {key.public_key[:17]}…, "
                f"{timesince(key.created_at)} old, {retires}, {used}"
            )

    def push(self) -> None:
        try:
            outcomes = platforms_push_all()
        except PlatformPushError as exc:
            raise CommandError(str(exc)) from None
        failed = [outcome.domain for outcome in outcomes if not outcome.ok]
        for outcome in outcomes:
            state = "ok" if outcome.ok else "failed"
            self.stdout.write(f"push to {outcome.domain}: {state}: {outcome.detail}")
        if failed:
            raise CommandError(
                f"{', '.join(failed)} did not take the list; run sync_platforms "
                "again before the overlap ends."
            )
