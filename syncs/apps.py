from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SyncsConfig(AppConfig):
    name = "syncs"
    verbose_name = _("Syncs")

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from syncs import checks  # noqa: F401  (registers system checks)
        from syncs.outbox_ids import outbox_ids_protect_after_migrate
        from syncs.signals import listener_connect

        listener_connect()
        post_migrate.connect(outbox_ids_protect_after_migrate, sender=self)
