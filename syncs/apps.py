from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SyncsConfig(AppConfig):
    name = "syncs"
    verbose_name = _("Syncs")

    def ready(self) -> None:
        from syncs import checks  # noqa: F401  (registers system checks)
        from syncs.signals import listener_connect

        listener_connect()
