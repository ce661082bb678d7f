"""The ticket admin shows the status read-only: state changes only through the workflow."""

import pytest
from django.urls import reverse

from repairs.models import FaultTicket

pytestmark = pytest.mark.django_db
S = FaultTicket.Status


def test_it_lists_and_shows_tickets_with_a_read_only_status(client, admin_user, ticket_at):
    ticket = ticket_at(S.AT_BRANCH)
    client.force_login(admin_user)
    assert ticket.service_order_no in client.get(reverse("admin:repairs_faultticket_changelist")).content.decode()
    change = reverse("admin:repairs_faultticket_change", args=[ticket.pk])
    body = client.get(change).content.decode()
    assert 'name="status"' not in body and "diagnosing" in body  # the possible next states, read from the table
    client.post(change, {"status": "closed", "fault_type": "printer", "symptoms": "x", "priority": "normal",
                         "source": "portal"})
    ticket.refresh_from_db()
    assert ticket.status == S.AT_BRANCH


def test_it_cannot_add_or_delete_tickets_in_the_admin(client, admin_user, ticket_at):
    ticket = ticket_at(S.REPORTED)
    client.force_login(admin_user)
    assert client.get(reverse("admin:repairs_faultticket_add")).status_code == 403
    assert client.get(reverse("admin:repairs_faultticket_delete", args=[ticket.pk])).status_code == 403
