from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlatformsConfig(AppConfig):
    name = "platforms"
    verbose_name = _("Platforms")

    def ready(self) -> None:
        from django.contrib import admin

        from platforms import checks  # noqa: F401  (registers system checks)
        from platforms.admin_relations import platform_relations_admin_install

        # django.contrib.admin comes first in INSTALLED_APPS, so its ready() has
        # imported every admin module by now.
        platform_relations_admin_install(admin.site)
