"""Reads of the notifications area shared by the pages and the API."""

from notifications.models import Notification


def inbox(user):
    """The user's in-app notifications, newest first."""
    return Notification.objects.inbox(user).select_related("recipient").order_by("-created_at", "-pk")


def unread_count(user):
    """One indexed COUNT (the partial index notif_unread)."""
    if not user.is_authenticated:
        return 0
    return Notification.objects.unread(user).count()


def delivery_log(user, *, status="", channel="", kind="", recipient=""):
    """The outbox for staff, newest first, with the filters of the delivery log."""
    qs = Notification.objects.delivery_log_for(user).select_related("recipient", "subscriber")
    if status:
        qs = qs.filter(status=status)
    if channel:
        qs = qs.filter(channel=channel)
    if kind:
        qs = qs.filter(kind=kind)
    if recipient:
        recipient = recipient.strip()
        qs = (
            qs.filter(recipient__username=recipient)
            if not recipient.isdigit()
            else qs.filter(recipient_id=int(recipient))
        )
    return qs.order_by("-created_at", "-pk")
