"""Template helpers of the ticket pages and the dashboard cards."""

from django import template

from repairs import selectors
from repairs.models import FaultTicket

register = template.Library()

S = FaultTicket.Status
BADGES = {
    S.REPORTED: "text-bg-secondary",
    S.REMOTE_DIAGNOSIS: "text-bg-info",
    S.RESOLVED_REMOTELY: "text-bg-success",
    S.AWAITING_BRANCH: "text-bg-warning",
    S.AT_BRANCH: "text-bg-primary",
    S.DIAGNOSING: "text-bg-primary",
    S.REPAIRING: "text-bg-primary",
    S.NETWORK_TESTING: "text-bg-primary",
    S.READY_FOR_PICKUP: "text-bg-success",
    S.PICKED_UP: "text-bg-success",
    S.UNREPAIRABLE: "text-bg-danger",
    S.REPLACEMENT: "text-bg-danger",
    S.CLOSED: "text-bg-light border",
    S.CANCELLED: "text-bg-light border",
}


@register.filter
def status_badge(status):
    return BADGES.get(status, "text-bg-secondary")


# Labels by code, built once: get_FOO_display rebuilds a dict of the choices on every call,
# which costs ~5 ms on a 25-row list.
STATUS_LABELS = dict(S.choices)
FAULT_LABELS = dict(FaultTicket.FaultType.choices)
PRIORITY_LABELS = dict(FaultTicket.Priority.choices)


@register.filter
def status_label(status):
    return STATUS_LABELS.get(status, status)


@register.filter
def fault_label(fault_type):
    return FAULT_LABELS.get(fault_type, fault_type)


@register.filter
def priority_label(priority):
    return PRIORITY_LABELS.get(priority, priority)


@register.inclusion_tag("repairs/_merchant_dashboard.html", takes_context=True)
def merchant_tickets_card(context):
    user = context["request"].user
    tickets = list(selectors.queue(user, "open")[:5]) if user.is_authenticated else []
    return {"tickets": tickets, "user": user, "request": context["request"]}


@register.inclusion_tag("repairs/_staff_dashboard.html", takes_context=True)
def staff_tickets_card(context):
    user = context["request"].user
    show = user.is_authenticated and (user.is_agent or user.is_engineer or user.is_admin_role)
    return {
        "show": show,
        "counts": selectors.queue_counts(user) if show else {},
        "user": user,
        "request": context["request"],
    }
