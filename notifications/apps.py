from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    label = "notifications"
    verbose_name = _("Notifications")

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from notifications import (
            checks,  # noqa: F401 - registers the system checks
            tasks,  # noqa: F401 - registers the delivery tasks (queue.py sends by name)
        )
        from notifications.models import Notification
        from notifications.selectors import forget_unread
        from portal.accounts.models import REVIEWER_ROLES
        from portal.core import nav

        # The unread count is cached per user: a row saved or deleted outside the services (the
        # admin, fixtures) is forgotten too; the services forget what they insert and update.
        def forget(sender, instance, **kwargs):
            if instance.channel == Notification.Channel.IN_APP:
                forget_unread([instance.recipient_id])

        post_save.connect(forget, sender=Notification, dispatch_uid="forget-unread-saved", weak=False)
        post_delete.connect(forget, sender=Notification, dispatch_uid="forget-unread-deleted", weak=False)

        # (The notification centre has its own bell in the bar.)
        nav.register("notifications:log", _("Delivery log"), "send-check", REVIEWER_ROLES, position=91, more=True)
