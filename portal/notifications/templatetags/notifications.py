from django import template

from portal.notifications.kinds import status_label as _status_label

register = template.Library()


@register.filter
def status_label(code, family="ticket"):
    """A ticket (or, with "application", an application) status code as its translated name."""
    if not code:
        return ""
    from django.apps import apps

    model = {"ticket": "repairs.FaultTicket", "application": "applications.Application"}.get(family)
    try:
        status = apps.get_model(model).Status
        return str(status(code).label)
    except (LookupError, AttributeError, ValueError, TypeError):
        return str(_status_label(code, family))


@register.simple_tag
def unread_notifications(user):
    from portal.notifications.selectors import unread_count

    return unread_count(user)
