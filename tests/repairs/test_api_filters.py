"""The portal's FilterSet (portal.core.filters): its form class is built once per filter set, and
every request still has its own filters, form, values and errors."""

import pytest

from repairs.models import FaultTicket

pytestmark = pytest.mark.django_db


def test_a_filter_sets_form_class_is_built_once_and_each_request_has_its_own_form(ticket_at):
    from repairs.api import TicketFilter

    reported, closed = ticket_at(FaultTicket.Status.REPORTED), ticket_at(FaultTicket.Status.CLOSED)
    tickets = FaultTicket.objects.all()
    first = TicketFilter({"status": ["reported"], "open": "true"}, queryset=tickets)
    second = TicketFilter({"priority": "nope"}, queryset=tickets)
    third = TicketFilter({"open": "false"}, queryset=tickets)
    assert type(first.form) is type(second.form) is type(third.form)
    assert first.form is not second.form and first.filters["open"] is not third.filters["open"]
    assert list(first.qs) == [reported] and list(third.qs) == [closed]  # each its own method filter
    assert not second.is_valid() and "priority" in second.errors
    assert first.is_valid() and not first.errors
