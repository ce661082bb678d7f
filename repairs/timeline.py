"""What the fault tickets add to a terminal's page and API (terminals.selectors' registries).

The terminal's timeline lists each of its tickets when it was opened and every later step (public
steps only for merchants); its API detail lists its tickets. One query each, whatever the length.
"""

from django.utils.translation import gettext as _

from repairs.models import FaultTicket, TicketEvent
from terminals.selectors import TimelineEntry, detail_source, timeline_source


def ticket_entries(terminal, user, limit):
    tickets = FaultTicket.objects.visible_to(user).filter(terminal=terminal).order_by("-created_at")
    for t in tickets[:limit]:
        yield TimelineEntry(
            at=t.created_at,
            kind="ticket",
            title=_("Fault ticket %(number)s: %(fault)s")
            % {"number": t.service_order_no, "fault": t.get_fault_type_display()},
            detail=t.get_status_display(),
            icon="wrench-adjustable",
            url=t.get_absolute_url(),
        )


def ticket_event_entries(terminal, user, limit):
    events = (
        TicketEvent.objects.visible_to(user).filter(ticket__terminal=terminal)
        .exclude(from_status="")
        .select_related("ticket", "actor")
        .order_by("-created_at", "-pk")
    )
    for e in events[:limit]:
        yield TimelineEntry(
            at=e.created_at,
            kind="ticket",
            title=_("Ticket %(number)s: %(from)s → %(to)s")
            % {"number": e.ticket.service_order_no, "from": e.get_from_status_display(), "to": e.get_to_status_display()},
            detail=e.note,
            actor=e.actor.display_name if e.actor_id else _("System"),
            icon="wrench-adjustable",
            url=e.ticket.get_absolute_url(),
        )


def ticket_summaries(terminal, user):
    """The terminal's tickets as `user` may see them, newest first (its API detail)."""
    return list(
        FaultTicket.objects.visible_to(user).filter(terminal=terminal).order_by("-created_at", "-pk")
        .values("service_order_no", "status", "fault_type", "created_at")
    )


def register():
    timeline_source("tickets")(ticket_entries)
    timeline_source("ticket_events")(ticket_event_entries)
    detail_source("tickets")(ticket_summaries)
