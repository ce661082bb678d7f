"""The replacement's place on the ticket page: the next step of a merchant whose terminal cannot
be repaired (apply for a replacement), then the application that follows it."""

from django.template.loader import render_to_string

from applications.models import Application
from repairs.models import FaultTicket
from repairs.panels import ticket_panel


@ticket_panel("replacement")
def replacement_panel(ticket, user, request=None):
    if ticket.status not in (FaultTicket.Status.UNREPAIRABLE, FaultTicket.Status.REPLACEMENT):
        return ""
    if not (user.is_merchant or user.is_reviewer_or_admin):
        return ""
    applications = (
        Application.objects.visible_to(user).filter(ticket=ticket)
        .exclude(status__in=(Application.Status.REJECTED, Application.Status.WITHDRAWN))
        .order_by("-created_at")
    )
    application = applications.first()
    if application is None and not user.is_merchant:
        return ""
    return render_to_string("applications/_ticket_replacement.html", {"ticket": ticket, "application": application})
