"""Ticket status changes on the terminal's own timeline (terminals.selectors.terminal_timeline).

The terminals area lists each ticket once, when it was opened; this source adds every later step
of the terminal's tickets (public steps only for merchants), in one query whatever the length.
"""

from django.utils.translation import gettext as _

from repairs.models import TicketEvent


def ticket_event_entries(terminal, user, limit):
    from terminals.selectors import TimelineEntry

    events = (
        TicketEvent.objects.filter(ticket__terminal=terminal)
        .exclude(from_status="")
        .select_related("ticket", "actor")
        .order_by("-created_at", "-pk")
    )
    if not user.is_staff_role:
        events = events.filter(is_public=True, ticket__merchant_id=user.merchant_id)
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


def register():
    try:
        from terminals.selectors import timeline_source
    except ImportError:  # the terminals area has no timeline registry
        return
    timeline_source("ticket_events")(ticket_event_entries)
