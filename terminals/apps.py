from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TerminalsConfig(AppConfig):
    name = "terminals"
    verbose_name = _("Terminals")

    def ready(self):
        from notifications import kinds
        from portal.accounts.models import REVIEWER_ROLES, STAFF_ROLES, Role
        from portal.core import nav

        nav.register("terminals:mine", _("My terminals"), "credit-card", (Role.MERCHANT,), position=20)
        nav.register("terminals:list", _("Terminals"), "credit-card-2-front", STAFF_ROLES, position=21)
        nav.register("terminals:import", _("Import"), "upload", REVIEWER_ROLES, position=22, more=True)

        kinds.register("maintenance.reminder", _("Maintenance reminders"), quiet=True)
