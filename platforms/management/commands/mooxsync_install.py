"""Install Moox Sync on this platform (the counterpart of ``mooxsync:install``)."""

import os

from celery import current_app
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

from platforms.conf import sync_settings
from platforms.models import Platform, domain_validator
from platforms.services import platform_install


def _validation_text(exc: ValidationError) -> str:
    """Return a ValidationError as "field: message; ..." for the console."""
    if not hasattr(exc, "error_dict"):
        return " ".join(exc.messages)
    return "; ".join(
        " ".join(messages)
        if field == NON_FIELD_ERRORS
        else f"{field}: {' '.join(messages)}"
        for field, messages in exc.message_dict.items()
    )


class Command(BaseCommand):
    help = (
        "Install Moox Sync on this platform: apply migrations, create this "
        "platform's Platform row with a new API token (and, on the master, its "
        "signing key), and optionally an admin user. The API token is printed "
        "once, when the row is created; private keys are never printed. Running "
        "the command again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--domain",
            help="This platform's host name, optionally with a port "
            "(default: SYNC_PLATFORM_DOMAIN).",
        )
        parser.add_argument("--name", help="Display name (default: the domain).")
        parser.add_argument(
            "--scheme",
            choices=Platform.Scheme.values,
            default=Platform.Scheme.HTTPS,
            help="How other platforms reach this one (default: https).",
        )
        parser.add_argument(
            "--master",
            action="store_true",
            help="Make this platform the master, which holds platforms and syncs.",
        )
        parser.add_argument(
            "--admin-username", help="Also create a superuser with this username."
        )
        parser.add_argument("--admin-email", default="", help="The admin's email.")
        parser.add_argument(
            "--admin-password",
            help="The admin's password; DJANGO_SUPERUSER_PASSWORD does the same "
            "without showing it in the process list.",
        )
        parser.add_argument(
            "--noinput",
            "--no-input",
            action="store_false",
            dest="interactive",
            help="Never prompt; the admin's password must then be given.",
        )

    def handle(self, *args, **options):
        self.verbosity = options["verbosity"]
        domain = (options["domain"] or sync_settings.SYNC_PLATFORM_DOMAIN).lower()
        # The variable Django's own createsuperuser --noinput reads.
        password = options["admin_password"] or os.environ.get(
            "DJANGO_SUPERUSER_PASSWORD"
        )
        self.arguments_check(domain, password, options)
        self.migrate()
        platform = self.platform_install(domain, options)
        if options["admin_username"]:
            self.admin_install(options, password)
        self.next_steps_print(platform)

    def arguments_check(self, domain: str, password: str | None, options) -> None:
        """Refuse bad arguments before anything is written."""
        try:
            domain_validator(domain)
        except ValidationError:
            raise CommandError(
                f"{domain!r} is not a host name with an optional port "
                "(e.g. sync.example.com:8000). Pass --domain or set "
                "SYNC_PLATFORM_DOMAIN."
            ) from None
        username = options["admin_username"]
        if not username and (options["admin_email"] or options["admin_password"]):
            raise CommandError(
                "--admin-email and --admin-password need --admin-username."
            )
        if username:
            self.admin_username_check(username)
        if username and not password and not options["interactive"]:
            raise CommandError(
                "--noinput needs the admin's password: pass --admin-password or "
                "set DJANGO_SUPERUSER_PASSWORD."
            )

    def admin_username_check(self, username: str) -> None:
        user_model = get_user_model()
        field = user_model._meta.get_field(user_model.USERNAME_FIELD)
        try:
            field.clean(username, None)
        except ValidationError as exc:
            raise CommandError(f"--admin-username: {' '.join(exc.messages)}") from None

    def migrate(self) -> None:
        """Apply pending migrations quietly and say whether there were any."""
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        call_command("migrate", interactive=False, verbosity=0)
        if pending:
            self.say(f"Applied {len(pending)} migrations.")
        else:
            self.say("Database is up to date; no migrations to apply.")

    def platform_install(self, domain: str, options) -> Platform:
        """Create this platform's row, or report that it already exists."""
        try:
            platform, created = platform_install(
                domain=domain,
                name=options["name"] or domain,
                scheme=options["scheme"],
                master=options["master"],
            )
        except ValidationError as exc:
            raise CommandError(
                f"Cannot create platform {domain}: {_validation_text(exc)}"
            ) from None
        if not created:
            self.say(f"Platform {domain} already exists; nothing changed.")
            if options["master"] and not platform.master:
                self.say(
                    f"Platform {domain} is not the master; change that in the admin.",
                    self.style.WARNING,
                )
            return platform
        role = "the master" if platform.master else "not the master"
        self.say(
            f"Created platform {platform.name} ({platform.base_url}), {role}.",
            self.style.SUCCESS,
        )
        self.say(
            "API token (shown only now; this platform sends it as "
            f"'Authorization: Bearer <token>' to call the API): {platform.api_token}"
        )
        if platform.master:
            self.say("Signing key: issued and stored (never printed).")
        else:
            self.say("Signing key: the master issues it when it pushes the list.")
        return platform

    def admin_install(self, options, password: str | None) -> None:
        """Create the superuser unless a user with that username exists."""
        user_model = get_user_model()
        username = options["admin_username"]
        users = user_model._default_manager
        if users.filter(**{user_model.USERNAME_FIELD: username}).exists():
            self.say(f"Admin user {username} already exists; nothing changed.")
            return
        if password is None:
            # Let Django prompt for (and validate) the password.
            call_command(
                "createsuperuser",
                username=username,
                email=options["admin_email"] or None,
                stdout=self.stdout,
                stderr=self.stderr,
            )
            return
        users.create_superuser(
            **{
                user_model.USERNAME_FIELD: username,
                user_model.get_email_field_name(): options["admin_email"],
                "password": password,
            }
        )
        self.say(f"Created admin user {username}.", self.style.SUCCESS)

    def next_steps_print(self, platform: Platform) -> None:
        # Name this site's own WSGI module and Celery app, whatever the site.
        wsgi = settings.WSGI_APPLICATION.rpartition(".")[0]
        self.say(
            "\nNext steps:\n"
            f"  1. Set SYNC_PLATFORM_DOMAIN={platform.domain} for every process of "
            "this platform (settings or environment).\n"
            "  2. Start the web server, a Celery worker and Celery beat:\n"
            f"       gunicorn {wsgi}\n"
            f"       celery -A {current_app.main} worker -l info\n"
            f"       celery -A {current_app.main} beat -l info\n"
            f"  3. Open {platform.base_url}/admin/ and sign in as an admin user "
            "(manage.py createsuperuser makes one).\n"
            "  4. On the master platform, add the other platforms and the syncs "
            "between them.\n"
            "  5. To join an existing cluster instead: set SYNC_TOKEN to the "
            "cluster's token, add this platform on the master and run "
            "sync_platforms there, then sync_api here (docs/joining.md)."
        )

    def say(self, message: str, style=None) -> None:
        if self.verbosity >= 1:
            self.stdout.write(style(message) if style else message)
