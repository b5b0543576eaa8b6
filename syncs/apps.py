from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SyncsConfig(AppConfig):
    name = "syncs"
    # Its migrations have 64-bit ids, whatever the site's DEFAULT_AUTO_FIELD.
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("Syncs")

    def ready(self) -> None:
        from platforms.push import push_part_add
        from syncs import checks, tasks  # noqa: F401  (registers checks and tasks)
        from syncs.push import syncs_push_part
        from syncs.signals import listener_connect

        listener_connect()
        # The master's push of the platform list carries each target's syncs.
        push_part_add("syncs", syncs_push_part)
