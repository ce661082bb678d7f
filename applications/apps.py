from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApplicationsConfig(AppConfig):
    name = "applications"
    verbose_name = _("New-terminal applications")

    def ready(self):
        from applications import panels  # noqa: F401 - registers the replacement panel of the ticket page
        from applications.models import Application
        from notifications import kinds
        from portal.accounts.models import REVIEWER_ROLES, Role
        from portal.core import nav

        kinds.register("application.status", _("Application status changes"))
        kinds.register("deposit.eligible", _("Deposit refund eligibility"))
        kinds.register("deposit.deadline", _("Deposit deadline warnings"))
        kinds.register_statuses("application", Application.Status)
        nav.register("applications:list", _("Applications"), "file-earmark-plus", (Role.MERCHANT,), position=40)
        nav.register("applications:queue", _("Review queue"), "clipboard-check", REVIEWER_ROLES, position=41)
