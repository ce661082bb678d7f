from django import template

from notifications import kinds

register = template.Library()


@register.filter
def status_label(code, family="ticket"):
    """A status code as its translated name: a ticket's, or with "application" an application's
    (the names each app registered with notifications.kinds)."""
    if not code:
        return ""
    return kinds.status_label(code, family)


@register.simple_tag
def unread_notifications(user):
    from notifications.selectors import unread_count

    return unread_count(user)
