"""The periodic jobs run by Celery beat (settings.CELERY_BEAT_SCHEDULE, thin tasks in tasks.py).

Each job is safe to run again: its notifications carry an event key per ticket, terminal and day,
so a second run the same day notifies nobody twice. The ticket and application rules belong to
their apps; these jobs only find what is due and tell people. (Auto-close after 7 days is the
tickets area's own task, `repairs.auto_close_due_tickets`, on the same beat schedule; its
transitions send `ticket.auto_closed` notices through `notify`.)
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from portal.notifications.models import Notification
from portal.notifications.services import notify

log = logging.getLogger(__name__)

# Ticket states in which the branch, not the agent, has the ticket.
BRANCH_STATES = {
    "awaiting_branch",
    "at_branch",
    "diagnosing",
    "repairing",
    "network_testing",
    "ready_for_pickup",
    "unrepairable",
}


def _model(path):
    """A model of an app that is built in parallel, or None while it does not exist yet."""
    from django.apps import apps

    try:
        return apps.get_model(path)
    except LookupError:
        return None


def sla_assignees(ticket):
    """Who answers for the ticket now: the branch's engineers at the branch, else the agent."""
    User = get_user_model()
    if ticket.status in BRANCH_STATES and ticket.branch_id:
        engineers = list(User.objects.filter(role="engineer", branch_id=ticket.branch_id, is_active=True))
        if engineers:
            return engineers
    return [ticket.agent] if ticket.agent_id else []


def sla_breach_warnings(now=None):
    """Warn the assignee of every open ticket past its SLA due time, once per ticket."""
    FaultTicket = _model("repairs.FaultTicket")
    if FaultTicket is None:
        log.info("sla_breach_warnings: repairs.FaultTicket does not exist yet")
        return 0
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
                    "priority": str(getattr(ticket, "priority", "") or ""),
                },
                url=f"/tickets/{ticket.service_order_no}/",
            )
        count += 1
    return count


def maintenance_reminders(today=None):
    """Remind each merchant's users of the daily cleaning of every terminal in service, and of the
    paper roll when PAPER_ROLL_DAYS have passed since the last change; once per terminal per day."""
    from terminals.models import MaintenanceRecord, Terminal

    today = today or timezone.localdate()
    start_of_day = timezone.make_aware(timezone.datetime.combine(today, timezone.datetime.min.time()))
    paper_days = settings.PAPER_ROLL_DAYS
    terminals = (
        Terminal.objects.filter(
            status__in=[Terminal.Status.ACTIVE, Terminal.Status.FAULTY, Terminal.Status.IN_REPAIR],
            merchant__isnull=False,
        )
        .annotate(
            last_paper=Max(
                "maintenance__done_at", filter=Q(maintenance__kind=MaintenanceRecord.Kind.PAPER_ROLL)
            ),
            last_cleaning=Max(
                "maintenance__done_at", filter=Q(maintenance__kind=MaintenanceRecord.Kind.CLEANING)
            ),
        )
        .order_by("pk")
    )
    User = get_user_model()
    users_by_merchant = {}
    for user in User.objects.filter(role="merchant", is_active=True, merchant__isnull=False):
        users_by_merchant.setdefault(user.merchant_id, []).append(user)
    count = 0
    for terminal in terminals.iterator(chunk_size=500):
        recipients = users_by_merchant.get(terminal.merchant_id)
        if not recipients:
            continue
        cleaning_due = terminal.last_cleaning is None or terminal.last_cleaning < start_of_day
        paper_due = terminal.last_paper is None or (
            timezone.localdate(terminal.last_paper) <= today - timedelta(days=paper_days)
        )
        if not (cleaning_due or paper_due):
            continue
        with transaction.atomic():
            written = notify(
                kind="maintenance.reminder",
                event_key=f"maintenance:{terminal.pk}:{today.isoformat()}",
                recipients=recipients,
                context={
                    "serial_number": terminal.serial_number,
                    "tag_number": terminal.tag_number,
                    "cleaning_due": cleaning_due,
                    "paper_roll_due": paper_due,
                    "paper_roll_days": paper_days,
                    "last_paper_roll": timezone.localdate(terminal.last_paper).isoformat()
                    if terminal.last_paper
                    else "",
                },
                url=f"/terminals/{terminal.serial_number}/",
            )
        count += bool(written)
    return count


def deposit_reminders(today=None):
    """Deposit-refund eligibility and deadline warnings (the applications area's deposits)."""
    from portal.notifications import deposits

    return deposits.run(today or timezone.localdate())
