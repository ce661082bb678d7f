"""Reads of the notifications area shared by the pages and the API."""


from notifications.models import Notification
from portal.core.cache import forget, read_through
from portal.core.querysets import built_once

# The unread badge is on every signed-in page: its count is kept in the shared cache per user, and
# forgotten by every write of an inbox row (notifications.services, and a saved or deleted row, see
# connect). The lifetime only bounds how long a count written by a request that raced such a write
# can stay.
UNREAD_CACHE_SECONDS = 120


def inbox(user):
    """The user's in-app notifications, newest first."""
    return Notification.objects.inbox(user).select_related("recipient").order_by("-created_at", "-pk")


def latest(user, limit):
    """The user's newest in-app notifications for a short list (the dashboard's card): each with
    what its preview and its line show, and the user as its recipient (an inbox holds only theirs)."""
    rows = list(_latest_as_shown().filter(recipient=user)[:limit])
    for notification in rows:
        notification.recipient = user
    return rows


@built_once
def _latest_as_shown():
    # a preview reads the kind, the context and the link (notifications.delivery.render_preview),
    # the card the time and whether it was read
    return (
        Notification.objects.filter(channel=Notification.Channel.IN_APP)
        .only("kind", "context", "url", "recipient", "channel", "created_at", "read_at")
        .order_by("-created_at", "-pk")
    )


def _unread_key(user_id):
    return f"notifications:unread:{user_id}"


def unread_count(user):
    """The user's unread in-app notifications: from the cache, else one indexed COUNT (the partial
    index notif_unread)."""
    if not user.is_authenticated:
        return 0
    # (a lambda: the query is built only when the cache has no count, not on every page)
    return read_through(_unread_key(user.pk), lambda: Notification.objects.unread(user).count(), UNREAD_CACHE_SECONDS)


def forget_unread(user_ids, *, on_commit=True):
    """Forget the cached counts of these users (now and at commit: see portal.core.cache.forget)."""
    forget([_unread_key(pk) for pk in set(user_ids) if pk is not None], on_commit=on_commit)


def _row_changed(sender, instance, **kwargs):
    if instance.channel == Notification.Channel.IN_APP:
        forget_unread([instance.recipient_id])


def connect():
    """A row saved or deleted outside the services (the admin, fixtures) is forgotten too; the
    services forget what they insert and update themselves. The count is fetched with the
    signed-in user (portal.accounts.backends.read_with_user)."""
    from django.db.models.signals import post_delete, post_save

    from portal.accounts.backends import read_with_user

    post_save.connect(_row_changed, sender=Notification, dispatch_uid="forget-unread-saved")
    post_delete.connect(_row_changed, sender=Notification, dispatch_uid="forget-unread-deleted")
    read_with_user(_unread_key)  # the badge's count comes with the signed-in user, in one round trip


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
