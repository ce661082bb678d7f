from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self):
        from notifications import (
            checks,  # noqa: F401 - registers the system checks
            selectors,
            tasks,  # noqa: F401 - registers the delivery tasks (queue.py sends by name)
        )
        from portal.accounts.models import REVIEWER_ROLES
        from portal.core import nav

        selectors.connect()  # a saved or deleted inbox row is forgotten by the unread-count cache

        # (The notification centre has its own bell in the bar.)
        nav.register("notifications:log", _("Delivery log"), "send-check", REVIEWER_ROLES, position=91, more=True)
