from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "webhooks"
    # Its migrations have 64-bit ids, whatever the site's DEFAULT_AUTO_FIELD.
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("Webhooks")

    def ready(self) -> None:
        from django.contrib import admin

        from webhooks import tasks  # noqa: F401  (registers what enqueue sends)

        # The sync dashboard on the admin's index, wherever this app stands in
        # INSTALLED_APPS, unless the site chose an index template of its own.
        if admin.site.index_template is None:
            admin.site.index_template = "admin/sync_index.html"
