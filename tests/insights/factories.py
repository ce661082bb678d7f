"""Tickets with exact timelines for the insights tests, written straight to the tables.

Reports are checked against hand-computed figures, so every timestamp here is chosen by the test;
the workflow's own behaviour is the tickets area's tests' business.
"""

import itertools
from datetime import datetime

from django.utils import timezone

from repairs.models import FaultTicket, TicketEvent
from tests.factories import ActiveTerminalFactory

_numbers = itertools.count(1)


def at(text):
    """An aware China-time datetime from "2026-11-02 09:00"."""
    return timezone.make_aware(datetime.strptime(text, "%Y-%m-%d %H:%M"))


def make_ticket(terminal=None, *, created, events=(), branch=None, sla_due=None, fault_type="printer",
                agent=None, source="portal", reported_by=None, **extra):
    """A ticket reported at `created` that went through `events` [(to_status, "YYYY-mm-dd HH:MM", note,
    is_public)]; its status is the last event's."""
    terminal = terminal or ActiveTerminalFactory()
    status = events[-1][0] if events else "reported"
    created_at = at(created) if isinstance(created, str) else created
    n = next(_numbers)
    ticket = FaultTicket.objects.create(
        service_order_no=f"SO{created_at:%Y%m%d}-{n:04d}",
        terminal=terminal,
        merchant=terminal.merchant,
        status=status,
        fault_type=fault_type,
        symptoms="屏幕不亮 secret-symptom",
        agent=agent,
        agent_name=agent.display_name if agent else "",
        branch=branch,
        sla_due_at=at(sla_due) if isinstance(sla_due, str) else sla_due,
        source=source,
        reported_by=reported_by,
        **extra,
    )
    previous = "reported"
    last_at = created_at
    TicketEvent.objects.create(ticket=ticket, from_status="", to_status="reported", created_at=created_at)
    for event in events:
        to, when, *rest = event
        note = rest[0] if rest else ""
        public = rest[1] if len(rest) > 1 else True
        last_at = at(when)
        TicketEvent.objects.create(
            ticket=ticket, from_status=previous, to_status=to, created_at=last_at, note=note, is_public=public
        )
        previous = to
    FaultTicket.objects.filter(pk=ticket.pk).update(
        created_at=created_at,
        status_changed_at=last_at,
        closed_at=last_at if status in ("closed", "cancelled") else None,
    )
    ticket.refresh_from_db()
    return ticket
