from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlatformsConfig(AppConfig):
    name = "platforms"
    # Its migrations have 64-bit ids, whatever the site's DEFAULT_AUTO_FIELD.
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = _("Platforms")

    def ready(self) -> None:
        from django.contrib import admin

        from platforms import checks  # noqa: F401  (registers system checks)
        from platforms.admin_relations import platform_relations_admin_install

        # Import every app's admin module now (the admin's own ready() does it
        # too, later when the site lists this app first; importing twice is a
        # no-op), so the relations field reaches every registered ModelAdmin.
        admin.autodiscover()
        platform_relations_admin_install(admin.site)
