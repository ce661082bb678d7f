"""200 concurrent transitions through the API, on one ticket and on 200 different tickets:
one winner where they collide, nobody lost where they don't, and never a duplicate event or
notification.

200 threads are released together by a barrier; each makes its request through the WSGI
application with its own database connection, at most POOL of them at a time (the machine's
PostgreSQL allows 100 connections, shared; production bounds them the same way with its workers).
"""

import threading
from collections import Counter

import pytest
from django.db import connection
from django.db.models import Count
from django.test import Client
from rest_framework.authtoken.models import Token

from tests.conftest import requires_postgres
from tests.factories import UserFactory
from tests.security.registry import Owner

pytestmark = [requires_postgres, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 200
POOL = 24


def run_together(calls):
    """Start every call at the same moment, each in its own thread; return their results."""
    barrier = threading.Barrier(len(calls))
    pool = threading.BoundedSemaphore(POOL)
    results = [None] * len(calls)

    def worker(i, call):
        try:
            barrier.wait(timeout=60)
            with pool:
                results[i] = call()
        except Exception as exc:  # noqa: BLE001 - reported by the test
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    return results


def post_transition(token, number, body):
    def call():
        response = Client().post(
            f"/api/v1/tickets/{number}/transition/", body, content_type="application/json",
            HTTP_AUTHORIZATION=f"Token {token}",
        )
        return response.status_code

    return call


def agent_tokens(n):
    return [Token.objects.create(user=UserFactory(role="agent")).key for _ in range(n)]


def assert_no_duplicate_notifications():
    from notifications.models import Notification

    duplicates = (
        Notification.objects.values("event_key", "recipient_id", "channel")
        .annotate(n=Count("pk")).filter(n__gt=1)
    )
    assert not duplicates.exists(), list(duplicates[:5])


def test_one_ticket_200_takers_exactly_one_wins():
    from repairs.models import TicketEvent

    owner = Owner()
    ticket = owner.ticket
    tokens = agent_tokens(10)
    results = run_together([
        post_transition(tokens[i % 10], ticket.service_order_no, {"to": "remote_diagnosis"}) for i in range(THREADS)
    ])
    assert not [r for r in results if isinstance(r, Exception)], [r for r in results if isinstance(r, Exception)][:3]
    statuses = Counter(results)
    assert statuses[200] == 1, statuses
    assert statuses[409] == THREADS - 1, statuses
    ticket.refresh_from_db()
    assert ticket.status == "remote_diagnosis"
    assert ticket.version == 2
    assert TicketEvent.objects.filter(ticket=ticket, to_status="remote_diagnosis").count() == 1
    assert_no_duplicate_notifications()


def test_conflicting_changes_on_one_version_one_wins_the_rest_are_told():
    from repairs.models import FaultTicket, TicketEvent

    owner = Owner()
    ticket = owner.ticket
    tokens = agent_tokens(10)
    Client().post(
        f"/api/v1/tickets/{ticket.service_order_no}/transition/", {"to": "remote_diagnosis"},
        content_type="application/json", HTTP_AUTHORIZATION=f"Token {tokens[0]}",
    )
    ticket.refresh_from_db()
    seen = ticket.version
    bodies = [
        {"to": "resolved_remotely", "note": f"远程修复 {i}", "version": seen} if i % 2
        else {"to": "awaiting_branch", "branch": owner.branch.code, "version": seen}
        for i in range(THREADS)
    ]
    results = run_together([
        post_transition(tokens[i % 10], ticket.service_order_no, body) for i, body in enumerate(bodies)
    ])
    statuses = Counter(results)
    assert statuses[200] == 1, statuses
    assert statuses[409] == THREADS - 1, statuses
    ticket.refresh_from_db()
    assert ticket.version == seen + 1
    after = TicketEvent.objects.filter(ticket=ticket, from_status="remote_diagnosis")
    assert after.count() == 1 and after.get().to_status == ticket.status
    assert FaultTicket.objects.get(pk=ticket.pk).status in ("resolved_remotely", "awaiting_branch")
    assert_no_duplicate_notifications()


def test_200_tickets_200_takers_nobody_is_lost():
    from notifications.models import Notification
    from repairs.models import FaultTicket, TicketEvent
    from repairs.workflow import create_ticket

    owner = Owner()
    numbers = [
        create_ticket(terminal=owner.new_terminal(), actor=owner.user, fault_type="network", symptoms="无法联网")
        .service_order_no
        for _ in range(THREADS)
    ]
    assert len(set(numbers)) == THREADS
    tokens = agent_tokens(20)
    results = run_together([
        post_transition(tokens[i % 20], number, {"to": "remote_diagnosis"}) for i, number in enumerate(numbers)
    ])
    assert Counter(results) == {200: THREADS}, Counter(results)
    tickets = FaultTicket.objects.filter(service_order_no__in=numbers)
    assert set(tickets.values_list("status", flat=True)) == {"remote_diagnosis"}
    assert set(tickets.values_list("version", flat=True)) == {2}
    events = TicketEvent.objects.filter(ticket__in=tickets, to_status="remote_diagnosis")
    assert events.count() == THREADS
    # Each taking told the merchant once per channel, and nobody twice.
    told = Notification.objects.filter(
        event_key__in=[f"ticket-event:{pk}" for pk in events.values_list("pk", flat=True)],
        recipient=owner.user, channel="in_app",
    )
    assert told.count() == THREADS
    assert_no_duplicate_notifications()
