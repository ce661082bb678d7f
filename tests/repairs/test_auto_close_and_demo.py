"""Periodic auto-close, notifications written with each transition, and the demo tickets."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from repairs.models import FaultTicket, TicketEvent
from repairs.tasks import auto_close_due_tickets as auto_close_task
from repairs.workflow import auto_close_due_tickets, ticket_transition
from terminals.models import Terminal

pytestmark = pytest.mark.django_db
S = FaultTicket.Status


@pytest.mark.parametrize("status", [S.RESOLVED_REMOTELY, S.PICKED_UP])
def test_it_closes_tickets_left_for_seven_days(ticket_at, status):
    ticket = ticket_at(status)
    assert auto_close_due_tickets(now=timezone.now() + timedelta(days=6)) == 0
    assert auto_close_due_tickets(now=timezone.now() + timedelta(days=7, minutes=1)) == 1
    ticket.refresh_from_db()
    assert ticket.status == S.CLOSED
    event = ticket.events.last()
    assert event.actor is None and event.to_status == S.CLOSED


def test_it_leaves_other_tickets_alone(ticket_at):
    ticket = ticket_at(S.READY_FOR_PICKUP)
    later = timezone.now() + timedelta(days=30)
    assert auto_close_due_tickets(now=later) == 0
    ticket.refresh_from_db()
    assert ticket.status == S.READY_FOR_PICKUP


def test_it_runs_as_a_celery_task(ticket_at):
    ticket = ticket_at(S.RESOLVED_REMOTELY)
    FaultTicket.objects.filter(pk=ticket.pk).update(status_changed_at=timezone.now() - timedelta(days=8))
    assert auto_close_task.delay().get() == 1


def test_it_writes_notifications_for_the_merchant_and_the_agent(people, ticket_at, django_capture_on_commit_callbacks):
    from notifications.models import Notification

    ticket = ticket_at(S.REMOTE_DIAGNOSIS)
    with django_capture_on_commit_callbacks(execute=False):
        event = ticket_transition(ticket=ticket, to=S.AWAITING_BRANCH, actor=people["agent"], branch="BR001",
                                  note="please visit")
    rows = Notification.objects.filter(event_key=f"ticket-event:{event.pk}")
    recipients = set(rows.values_list("recipient_id", flat=True))
    assert people["merchant"].pk in recipients
    assert people["engineer"].pk in recipients  # the branch's engineers learn a terminal is coming
    assert people["agent"].pk not in recipients  # not told about their own action


def test_it_seeds_demo_tickets_idempotently_through_the_workflow():
    call_command("seed_demo")
    counts = (FaultTicket.objects.count(), TicketEvent.objects.count())
    call_command("seed_demo")
    assert (FaultTicket.objects.count(), TicketEvent.objects.count()) == counts
    statuses = set(FaultTicket.objects.values_list("status", flat=True))
    assert {S.REMOTE_DIAGNOSIS, S.READY_FOR_PICKUP, S.CLOSED, S.REPORTED} <= statuses
    for username in ("merchant", "merchant2"):
        active = Terminal.objects.filter(merchant__users__username=username, status=Terminal.Status.ACTIVE)
        assert active.count() >= 2
    ready = FaultTicket.objects.get(status=S.READY_FOR_PICKUP)
    assert ready.network_tests.count() == 2 and ready.events.count() >= 10
