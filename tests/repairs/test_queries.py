"""Queues and timelines cost the same number of queries whatever their size."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from repairs.models import FaultTicket
from repairs.workflow import add_comment, create_ticket
from tests.factories import ActiveTerminalFactory

pytestmark = pytest.mark.django_db
S = FaultTicket.Status


def count_queries(client, url, **params):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def add_tickets(merchant_user, n):
    for _ in range(n):
        create_ticket(terminal=ActiveTerminalFactory(merchant=merchant_user.merchant), actor=merchant_user,
                      fault_type="printer", symptoms="x")


@pytest.mark.parametrize(
    ("who", "params"),
    [("merchant", {}), ("agent", {"queue": "new"}), ("agent", {"queue": "overdue"}), ("agent", {"queue": "all"}),
     ("engineer", {})],
)
def test_it_lists_a_queue_in_constant_queries(client, people, merchant_user, who, params):
    client.force_login(people[who])
    add_tickets(merchant_user, 2)
    small = count_queries(client, reverse("tickets:list"), **params)
    add_tickets(merchant_user, 12)
    assert count_queries(client, reverse("tickets:list"), **params) == small


def test_it_shows_the_api_list_in_constant_queries(client, agent, merchant_user):
    client.force_login(agent)
    add_tickets(merchant_user, 2)
    small = count_queries(client, "/api/v1/tickets/")
    add_tickets(merchant_user, 12)
    assert count_queries(client, "/api/v1/tickets/") == small


@pytest.mark.parametrize("who", ["merchant", "agent"])
def test_it_shows_a_timeline_in_constant_queries(client, people, ticket_at, who):
    ticket = ticket_at(S.REMOTE_DIAGNOSIS)
    client.force_login(people[who])
    url = reverse("tickets:detail", args=[ticket.service_order_no])
    add_comment(ticket=ticket, author=people["merchant"], body="first")  # a page without any asks for none
    small = count_queries(client, url)
    for i in range(10):
        add_comment(ticket=ticket, author=people["agent"], body=f"call {i}", is_public=bool(i % 2))
        add_comment(ticket=ticket, author=people["merchant"], body=f"reply {i}")
    assert count_queries(client, url) == small
    api_small = count_queries(client, f"/api/v1/tickets/{ticket.service_order_no}/")
    for i in range(5):
        add_comment(ticket=ticket, author=people["agent"], body=f"more {i}")
    assert count_queries(client, f"/api/v1/tickets/{ticket.service_order_no}/") == api_small


def test_it_keeps_the_detail_of_a_long_repair_in_constant_queries(client, people, ticket_at):
    from repairs.workflow import ticket_transition

    ticket = ticket_at(S.NETWORK_TESTING)
    client.force_login(people["engineer"])
    url = reverse("tickets:detail", args=[ticket.service_order_no])
    small = count_queries(client, url)
    for _ in range(4):
        ticket.refresh_from_db()
        ticket_transition(ticket=ticket, to=S.REPAIRING, actor=people["engineer"], note="fail")
        ticket_transition(ticket=ticket, to=S.NETWORK_TESTING, actor=people["engineer"], work_done="again")
    assert count_queries(client, url) == small


ONLY_WHEN_PRESENT = ("repairs_loan", "repairs_ticketcomment", "repairs_ticketattachment", "repairs_satisfaction",
                     "repairs_dropoffbooking")


def test_a_ticket_page_asks_only_for_the_parts_the_ticket_has(client, people, ticket_at):
    """Loans, comments, files, a rating, a booked drop-off, the terminal's other tickets: most
    tickets have none, and their page asks for none (one EXISTS each on the ticket's own query)."""
    ticket = ticket_at(S.REMOTE_DIAGNOSIS)
    client.force_login(people["merchant"])
    url = reverse("tickets:detail", args=[ticket.service_order_no])
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    bare = len(ctx.captured_queries)
    own, *rest = [q["sql"] for q in ctx.captured_queries if 'FROM "repairs_faultticket"' in q["sql"]]
    assert all(f'FROM "{table}"' in own for table in ONLY_WHEN_PRESENT)  # the flags: EXISTS on its own query
    assert rest == []  # not the terminal's other tickets either
    others = [q["sql"] for q in ctx.captured_queries if q["sql"] != own]
    assert [q for q in others if any(f'FROM "{table}"' in q for table in ONLY_WHEN_PRESENT)] == []

    add_comment(ticket=ticket, author=people["merchant"], body="It beeps twice.")
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert "It beeps twice." in response.content.decode()
    assert len(ctx.captured_queries) == bare + 1


def test_a_queue_counts_its_tickets_without_the_joins_of_its_columns(client, people, merchant_user):
    """The total under a queue ("1–25 of 30") is a COUNT(*) of the tickets alone: the joins that
    bring in each row's terminal and merchant cost several times the count itself."""
    add_tickets(merchant_user, 30)
    client.force_login(people["agent"])
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("tickets:list"), {"queue": "open"})
    assert "1–25 of 30" in response.content.decode()
    count = 'SELECT COUNT(*) AS "__count" FROM "repairs_faultticket"'
    counts = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith(count)]
    assert len(counts) == 1
    assert "JOIN" not in counts[0]


def test_the_queue_tabs_count_each_open_ticket_where_it_is(people, merchant_user):
    """The tabs' counts (new, mine, overdue, open; an engineer's stages and overdue) are those of
    the tickets themselves, in one query, and closed tickets count nowhere."""
    from datetime import timedelta

    from django.utils import timezone

    from repairs import selectors

    agent, engineer = people["agent"], people["engineer"]
    now = timezone.now()
    add_tickets(merchant_user, 9)
    layout = [  # status, the agent's?, overdue?, at the engineer's branch?
        (S.REPORTED, False, True, False), (S.REPORTED, False, False, False), (S.REMOTE_DIAGNOSIS, True, True, False),
        (S.AT_BRANCH, True, False, True), (S.REPAIRING, False, True, True), (S.READY_FOR_PICKUP, True, True, True),
        (S.AWAITING_BRANCH, False, False, True), (S.CLOSED, True, True, True), (S.CANCELLED, False, True, False),
    ]
    for ticket, (status, mine, overdue, at_branch) in zip(FaultTicket.objects.order_by("pk"), layout, strict=True):
        FaultTicket.objects.filter(pk=ticket.pk).update(
            status=status, agent=agent if mine else None, branch=engineer.branch if at_branch else None,
            sla_due_at=now + timedelta(hours=-1 if overdue else 1),
        )
    with CaptureQueriesContext(connection) as ctx:
        counts = selectors.queue_counts(agent, now)
    assert len(ctx.captured_queries) == 1
    # overdue: open and on the SLA clock (ready for pickup is off it), past due
    assert counts == {"new": 2, "mine": 3, "overdue": 3, "open": 7}
    branch = selectors.queue_counts(engineer, now)
    assert branch["overdue"] == 1
    assert {stage: n for stage, _label, n in branch["stages"] if n} == {
        S.AT_BRANCH: 1, S.REPAIRING: 1, S.READY_FOR_PICKUP: 1, S.AWAITING_BRANCH: 1}
