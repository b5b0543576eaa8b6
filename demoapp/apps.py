from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoappConfig(AppConfig):
    name = "demoapp"
    verbose_name = _("Demo content")
