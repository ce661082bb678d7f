from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RepairsConfig(AppConfig):
    name = "repairs"
    verbose_name = _("Fault tickets and repairs")

    def ready(self):
        from repairs import timeline

        timeline.register()
