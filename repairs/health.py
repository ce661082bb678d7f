"""The terminal's health on its ticket page (terminals.selectors), for staff; during remote
diagnosis each known error's suggested fix can be applied as the resolution note, through the
ticket's one transition view and service."""

from django.template.loader import render_to_string
from django.urls import reverse

from repairs import workflow
from repairs.models import FaultTicket
from repairs.panels import ticket_panel
from terminals.selectors import health_panel_context


@ticket_panel("health")
def health_panel(ticket, user, request=None):
    if not user.is_staff_role:
        return ""
    resolve_url = None
    if any(t.target == FaultTicket.Status.RESOLVED_REMOTELY for t in workflow.MACHINE.allowed(ticket, user)):
        resolve_url = reverse("tickets:transition", args=[ticket.service_order_no])
    return render_to_string(
        "terminals/_health.html", health_panel_context(ticket.terminal, resolve_url=resolve_url), request=request
    )
