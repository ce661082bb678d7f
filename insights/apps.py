from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InsightsConfig(AppConfig):
    name = "insights"
    label = "insights"
    verbose_name = _("Dashboards, tracking and reports")

    def ready(self):
        from portal.accounts.models import REVIEWER_ROLES, Role
        from portal.core import nav

        nav.register("home", _("Home"), "house", Role.values, position=0)
        # (The search page has its own box in the bar.)
        nav.register("insights:reports", _("Reports"), "bar-chart-line", REVIEWER_ROLES, position=51)
