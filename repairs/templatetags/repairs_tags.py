"""Template helpers of the ticket pages and the dashboard cards.

    {% tracking_qr ticket %}          QR code of the ticket's /track/ link (printable receipts)
    {% stepper steps %}               remote diagnosis → branch → test → pickup / replacement
    {% satisfaction_panel ticket %}   the merchant's 1–5 rating form, or the rating given
"""

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _

from portal.core.fragments import render_rows
from repairs import selectors
from repairs.forms import SatisfactionForm
from repairs.models import FaultTicket, Satisfaction
from repairs.panels import render_panels
from repairs.qr import qr_svg, tracking_url
from repairs.workflow import can_rate

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


@register.simple_tag(takes_context=True)
def ticket_rows(context, tickets):
    """The rows of a ticket table (column tuples from selectors.rows), each rendered once per
    content and then served from the cache: the key is everything the row shows."""
    user = context["user"]
    rows = [selectors.TicketRow(*values) for values in tickets]
    return render_rows(
        "repairs/_ticket_row.html", rows, lambda row: (*row, row.is_overdue),
        {"show_merchant": not user.is_merchant}, name="t",
    )


def _steps_shown(steps):
    """What a stepper shows of a ticket's stages (repairs.stages.ticket_steps): each one's key and state."""
    return tuple((s["key"], s["state"]) for s in steps)


@register.simple_tag
def merchant_ticket_items(tickets):
    """The merchant dashboard's open tickets (selectors.merchant_open_tickets), each rendered once
    per content: its number, terminal, fault, status, lateness, branch while awaited, and stages."""
    def shown(t):
        branch = t.branch and (t.branch.name, t.branch.address, t.branch.hours)
        return (t.service_order_no, t.terminal.serial_number, t.fault_type, t.status, t.is_overdue, branch,
                _steps_shown(t.steps))

    return render_rows("repairs/_merchant_dashboard_item.html", tickets, shown, name="t")


@register.simple_tag
def other_ticket_rows(tickets):
    """The terminal's other tickets on a ticket's page, each row rendered once per content."""
    return render_rows("repairs/_other_ticket_row.html", tickets,
                       lambda t: (t.service_order_no, t.status, t.created_at), name="other")


@register.simple_tag
def network_test_rows(tests):
    """A ticket's network tests, each row rendered once per content."""
    return render_rows("repairs/_network_test_row.html", tests,
                       lambda t: (t.pk, t.passed, t.created_at, t.details, _person(t.engineer)), name="test")


def _person(user):
    return user.display_name if user is not None else None


def _timeline_values(item):
    """Everything a timeline entry shows (events, comments and files never change; names may)."""
    obj = item["obj"]
    if item["kind"] == "event":
        shown = (obj.from_status, obj.to_status, obj.note, _person(obj.actor))
    elif item["kind"] == "comment":
        shown = (obj.body, _person(obj.author))
    else:
        shown = (obj.original_name, obj.size, _person(obj.uploaded_by))
    return (item["kind"], obj.pk, obj.is_public, obj.created_at, *shown)


@register.simple_tag
def timeline_items(timeline):
    """A ticket's timeline entries, each rendered once per content and then served from the cache."""
    return render_rows("repairs/_timeline_item.html", timeline, _timeline_values, name="item")


def _public_ticket_values(ticket):
    """Everything the tracking page's card shows of a public ticket (repairs.tracking: plain values)."""
    branch = ticket.branch
    return (
        ticket.service_order_no, ticket.status, ticket.status_label, ticket.reported_at, ticket.updated_at,
        ticket.closed_at, ticket.dropoff_at, branch and (branch.name, branch.address, branch.hours),
        _steps_shown(ticket.steps), tuple((e.status, e.label, e.at) for e in ticket.events),
    )


@register.simple_tag
def public_ticket_card(ticket):
    """The tracking page's answer, rendered once per state of the ticket: a lookup repeated while
    nothing changed serves the card from the fragments."""
    return render_rows("repairs/_track_result.html", [ticket], _public_ticket_values, name="ticket")


@register.simple_tag(takes_context=True)
def tracking_qr(context, ticket, scale=3):
    """An inline SVG QR code of the public tracking link, with the link printed under it."""
    url = tracking_url(context.get("request"), ticket)
    svg = qr_svg(url, title=_("Track service order %(no)s") % {"no": ticket.service_order_no}, scale=scale)
    return format_html(
        '<figure class="tracking-qr-figure text-center mb-0" data-testid="tracking-qr">{}'
        '<figcaption class="small">{}<br><span class="font-monospace text-break">{}</span></figcaption></figure>',
        svg,
        _("Scan to follow this repair"),
        url,
    )


@register.simple_tag
def stepper(steps, stepper_class="", testid=""):
    """A ticket's stages (repairs.stages.ticket_steps), rendered once per path and state: the
    dashboard shows five, every ticket page and tracking lookup one."""
    return render_rows(
        "repairs/_stepper.html", [steps], _steps_shown,
        {"stepper_class": stepper_class, "stepper_testid": testid}, name="steps",
    )


@register.inclusion_tag("repairs/_satisfaction.html", takes_context=True)
def satisfaction_panel(context, ticket):
    request = context.get("request")
    user = getattr(request, "user", None)
    rating = Satisfaction.objects.filter(ticket_id=ticket.pk).first() if ticket.may_have("rating") else None
    return {
        "ticket": ticket,
        "rating": rating,
        "can_rate": rating is None and user is not None and can_rate(ticket, user),
        "form": SatisfactionForm(),
        "error": context.get("error", ""),
        "request": request,
        "csrf_token": context.get("csrf_token"),
    }


@register.simple_tag(takes_context=True)
def ticket_panels(context, ticket):
    """What other areas offer on this ticket's page (repairs.panels)."""
    return render_panels(ticket, context["request"].user, context["request"])
