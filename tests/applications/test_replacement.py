"""A replacement: filed from an unrepairable ticket, activated only once the old terminal is gone."""

import pytest

from applications.workflow import application_transition
from portal.core.workflow import WorkflowError
from repairs.models import FaultTicket, TicketEvent
from terminals.models import Terminal
from tests.applications import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(merchant, channel):
    return f.unrepairable_ticket(merchant, channel)


def test_it_moves_the_ticket_to_replacement_when_a_draft_is_created(merchant_user, channel, ticket):
    app = f.application(merchant_user, channel, kind="replacement", ticket=ticket)
    ticket.refresh_from_db()
    assert ticket.status == FaultTicket.Status.REPLACEMENT
    event = TicketEvent.objects.filter(ticket=ticket).last()
    assert (event.to_status, event.actor) == ("replacement", None)
    assert app.number in event.note


def test_it_refuses_a_replacement_for_a_ticket_that_is_not_unrepairable(merchant_user, channel, ticket):
    FaultTicket.objects.filter(pk=ticket.pk).update(status=FaultTicket.Status.REPAIRING)
    with pytest.raises(WorkflowError) as exc:
        f.application(merchant_user, channel, kind="replacement", ticket=ticket)
    assert "ticket" in exc.value.field_errors


def test_it_refuses_another_merchants_ticket(other_merchant_user, channel, ticket):
    with pytest.raises(WorkflowError) as exc:
        f.application(other_merchant_user, channel, kind="replacement", ticket=ticket)
    assert "ticket" in exc.value.field_errors
    ticket.refresh_from_db()
    assert ticket.status == FaultTicket.Status.UNREPAIRABLE


def test_it_refuses_a_second_replacement_for_the_same_ticket(merchant_user, channel, ticket):
    f.application(merchant_user, channel, kind="replacement", ticket=ticket)
    with pytest.raises(WorkflowError):
        f.application(merchant_user, channel, kind="replacement", ticket=ticket)


def test_it_refuses_activation_until_the_old_terminal_is_deregistered(merchant_user, reviewer, channel, ticket):
    app = f.application(merchant_user, channel, kind="replacement", ticket=ticket)
    f.advance(app, "device_assigned", merchant_user=merchant_user, reviewer=reviewer)
    with pytest.raises(WorkflowError) as exc:
        application_transition(application=app, to="activated", actor=reviewer, training_notes="已培训")
    assert exc.value.code == "invalid" and "deregistration" in exc.value.field_errors
    app.refresh_from_db()
    assert app.status == "device_assigned"
    assert [t.status for t in app.terminals.all()] == ["pending_activation"]

    f.deregister_old(app, reviewer)
    application_transition(application=app, to="activated", actor=reviewer, training_notes="已培训")
    ticket.refresh_from_db()
    old = Terminal.objects.get(pk=ticket.terminal_id)
    assert ticket.status == FaultTicket.Status.CLOSED
    assert TicketEvent.objects.filter(ticket=ticket).last().actor is None
    assert old.status == Terminal.Status.DESTROYED
    assert [t.status for t in app.terminals.all()] == ["active"]


def test_it_deregisters_the_old_terminal_only_for_an_approved_replacement(merchant_user, reviewer, channel, ticket):
    app = f.application(merchant_user, channel, kind="replacement", ticket=ticket)
    with pytest.raises(WorkflowError) as exc:
        f.deregister_old(app, reviewer)
    assert exc.value.code == "not_allowed"
    f.advance(app, "approved", merchant_user=merchant_user, reviewer=reviewer)
    with pytest.raises(WorkflowError) as exc:
        f.deregister_old(app, merchant_user)
    assert exc.value.code == "forbidden"
    record = f.deregister_old(app, reviewer)
    assert record.terminal_id == ticket.terminal_id and record.recorded_by == reviewer
