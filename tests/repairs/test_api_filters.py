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


def test_a_filter_set_asks_nothing_only_when_no_parameter_names_one_of_its_filters():
    import django_filters

    from portal.core.filters import FilterSet, asks_nothing
    from repairs.api import TicketFilter

    assert asks_nothing(TicketFilter, {}) and asks_nothing(TicketFilter, {"cursor": "x", "format": "json"})
    for asked in ({"status": "reported"}, {"open": ""}, {"created_after": "2026-01-01"}, {"overdue": "nope"}):
        assert not asks_nothing(TicketFilter, asked)

    class Ranged(FilterSet):
        made = django_filters.DateFromToRangeFilter(field_name="created_at")

        class Meta:
            model = FaultTicket
            fields = []

    assert not asks_nothing(Ranged, {"made_after": "2026-01-01"})  # a filter of two fields

    class Required(FilterSet):
        branch = django_filters.CharFilter(field_name="branch__code", required=True)

        class Meta:
            model = FaultTicket
            fields = []

    assert not asks_nothing(Required, {})  # its absence is an error to report


def test_the_api_list_makes_no_filter_set_when_none_is_asked_for_and_filters_as_before_otherwise(
    agent, ticket_at, monkeypatch
):
    from rest_framework.test import APIClient

    from repairs.api import TicketFilter

    reported, closed = ticket_at(FaultTicket.Status.REPORTED), ticket_at(FaultTicket.Status.CLOSED)
    made = []
    init = TicketFilter.__init__

    def counting_init(self, *args, **kwargs):
        made.append(self)
        init(self, *args, **kwargs)

    monkeypatch.setattr(TicketFilter, "__init__", counting_init)
    api = APIClient()
    api.force_authenticate(agent)

    def numbers(response):
        assert response.status_code == 200
        return {row["service_order_no"] for row in response.json()["results"]}

    assert numbers(api.get("/api/v1/tickets/")) == {reported.service_order_no, closed.service_order_no}
    assert numbers(api.get("/api/v1/tickets/", {"unknown": "x"})) == {reported.service_order_no, closed.service_order_no}
    assert made == []
    assert numbers(api.get("/api/v1/tickets/", {"open": "true"})) == {reported.service_order_no}
    refused = api.get("/api/v1/tickets/", {"priority": "nope"})
    assert refused.status_code == 400 and "priority" in refused.json()  # the field and its errors
    assert len(made) == 2
