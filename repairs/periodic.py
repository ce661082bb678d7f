"""The fault-ticket jobs of Celery beat (thin tasks in repairs/tasks.py, scheduled in settings).

Each job is safe to run again: its notifications carry an event key per ticket, so a second run
notifies nobody twice. Auto-close after TICKET_AUTO_CLOSE_DAYS is workflow.auto_close_due_tickets.
"""

from django.db import transaction
from django.utils import timezone

from notifications.models import Notification
from notifications.services import notify
from portal.accounts.models import Role, User
from repairs.models import FaultTicket


def sla_assignees(ticket):
    """Who answers for the ticket now: the branch's engineers at the branch, else the agent."""
    if ticket.status in FaultTicket.BRANCH_STATUSES and ticket.branch_id:
        engineers = list(User.objects.filter(role=Role.ENGINEER, branch_id=ticket.branch_id, is_active=True))
        if engineers:
            return engineers
    return [ticket.agent] if ticket.agent_id else []


def sla_breach_warnings(now=None):
    """Warn the assignee of every open ticket past its SLA due time, once per ticket."""
    now = now or timezone.now()
    tickets = list(
        FaultTicket.objects.overdue(now)
        .select_related("terminal", "branch", "agent")
        .order_by("sla_due_at")[:1000]
    )
    warned = set(
        Notification.objects.filter(
            kind="sla.breach", event_key__in=[f"sla:{t.pk}" for t in tickets]
        ).values_list("event_key", flat=True)
    )
    count = 0
    for ticket in tickets:
        key = f"sla:{ticket.pk}"
        if key in warned:
            continue
        with transaction.atomic():
            notify(
                kind="sla.breach",
                event_key=key,
                recipients=sla_assignees(ticket),
                context={
                    "service_order_no": ticket.service_order_no,
                    "serial_number": ticket.terminal.serial_number,
                    "status": ticket.status,
                    "sla_due_at": timezone.localtime(ticket.sla_due_at).strftime("%Y-%m-%d %H:%M"),
                    "priority": ticket.priority,
                },
                url=ticket.get_absolute_url(),
            )
        count += 1
    return count
