"""Service-order numbers and concurrent transitions. The thread tests need PostgreSQL row locks."""

import threading
import time
from datetime import datetime

import pytest
from django.db import connection, transaction
from django.utils import timezone

from portal.core.workflow import WorkflowError
from repairs.models import FaultTicket, TicketEvent
from repairs.workflow import create_ticket, next_service_order_no, ticket_transition
from tests.conftest import requires_postgres
from tests.factories import ActiveTerminalFactory, UserFactory
from tests.races import run_in_threads

S = FaultTicket.Status


def report(terminal, user):
    return create_ticket(terminal=terminal, actor=user, fault_type="printer", symptoms="no paper")


@pytest.mark.django_db
def test_it_numbers_tickets_per_day_in_a_readable_form(merchant_user):
    first = report(ActiveTerminalFactory(merchant=merchant_user.merchant), merchant_user)
    second = report(ActiveTerminalFactory(merchant=merchant_user.merchant), merchant_user)
    today = timezone.localdate().strftime("%Y%m%d")
    assert first.service_order_no == f"SO{today}-0001"
    assert second.service_order_no == f"SO{today}-0002"


@pytest.mark.django_db
def test_it_starts_again_each_day_and_never_reuses_a_number(merchant_user):
    tomorrow = timezone.make_aware(datetime(2026, 12, 1, 0, 5))
    assert next_service_order_no(tomorrow) == "SO20261201-0001"
    assert next_service_order_no(tomorrow) == "SO20261201-0002"
    ticket = report(ActiveTerminalFactory(merchant=merchant_user.merchant), merchant_user)
    ticket_transition(ticket=ticket, to=S.CANCELLED, actor=merchant_user, note="fixed itself")
    # A cancelled ticket keeps its number: the next report of the same terminal gets a new one.
    again = report(ticket.terminal, merchant_user)
    assert again.service_order_no != ticket.service_order_no
    assert FaultTicket.objects.filter(service_order_no=ticket.service_order_no).count() == 1


@pytest.mark.django_db
def test_it_refuses_a_second_open_ticket_for_the_same_terminal(merchant_user):
    terminal = ActiveTerminalFactory(merchant=merchant_user.merchant)
    first = report(terminal, merchant_user)
    with pytest.raises(WorkflowError) as refused:
        report(terminal, merchant_user)
    assert first.service_order_no in refused.value.message
    assert FaultTicket.objects.count() == 1


@requires_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_numbers_concurrent_reports_uniquely_on_postgres(merchant_user):
    terminals = [ActiveTerminalFactory(merchant=merchant_user.merchant) for _ in range(8)]
    results = run_in_threads([lambda t=t: report(t, merchant_user).service_order_no for t in terminals])
    assert [kind for kind, _ in results] == ["ok"] * 8, results
    today = timezone.localdate().strftime("%Y%m%d")
    assert sorted(no for _, no in results) == [f"SO{today}-{n:04d}" for n in range(1, 9)]


@requires_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_lets_only_one_of_two_concurrent_reports_of_a_terminal_through_on_postgres(merchant_user):
    terminal = ActiveTerminalFactory(merchant=merchant_user.merchant)
    results = run_in_threads([lambda: report(terminal, merchant_user)] * 2)
    assert sorted(kind for kind, _ in results) == ["error", "ok"]
    assert FaultTicket.objects.filter(terminal=terminal).count() == 1


@requires_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("with_version", [False, True])
def test_it_lets_exactly_one_of_two_racing_transitions_win_on_postgres(merchant_user, with_version):
    ticket = report(ActiveTerminalFactory(merchant=merchant_user.merchant), merchant_user)
    agents = [UserFactory(), UserFactory()]
    extra = {"version": ticket.version} if with_version else {}

    def take(agent):
        return lambda: ticket_transition(
            ticket=FaultTicket.objects.get(pk=ticket.pk), to=S.REMOTE_DIAGNOSIS, actor=agent, **extra
        )

    results = run_in_threads([take(a) for a in agents])
    kinds = sorted(kind for kind, _ in results)
    assert kinds == ["error", "ok"], results
    error = next(value for kind, value in results if kind == "error")
    assert isinstance(error, WorkflowError)
    assert error.code == ("stale" if with_version else "not_allowed")
    assert TicketEvent.objects.filter(ticket=ticket, to_status=S.REMOTE_DIAGNOSIS).count() == 1
    ticket.refresh_from_db()
    assert ticket.version == 2
    winner = next(value for kind, value in results if kind == "ok")
    assert ticket.agent_id == winner.actor_id


@requires_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_sees_the_branch_set_by_the_transition_it_waited_for_on_postgres(people, ticket_at):
    from notifications.models import Notification
    from tests.repairs.factories import fields_for

    ticket = ticket_at(S.REMOTE_DIAGNOSIS)
    held = threading.Event()
    results = {}

    def escalate():
        """Holds the ticket's lock until the other transition waits for it, then commits."""
        try:
            with transaction.atomic():
                ticket_transition(ticket=ticket, to=S.AWAITING_BRANCH, actor=people["agent"], branch="BR001")
                held.set()
                with connection.cursor() as cursor:
                    for _ in range(200):
                        cursor.execute("SELECT pg_stat_clear_snapshot()")  # else one view per transaction
                        cursor.execute(
                            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                            "AND datname = current_database()"
                        )
                        if cursor.fetchone()[0]:
                            break
                        time.sleep(0.05)
        finally:
            connection.close()

    def take_in():
        held.wait(10)
        try:
            # Read before the escalation commits: awaiting_branch is what the engineer is told.
            body = fields_for(ticket, S.AWAITING_BRANCH, S.AT_BRANCH)
            results["event"] = ticket_transition(
                ticket=FaultTicket.objects.filter(pk=ticket.pk), to=S.AT_BRANCH, actor=people["engineer"], **body
            )
        except Exception as exc:  # noqa: BLE001 - asserted below
            results["error"] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=escalate), threading.Thread(target=take_in)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert "error" not in results, results
    event = results["event"]
    assert event.ticket.branch.code == "BR001"
    contexts = Notification.objects.filter(event_key=f"ticket-event:{event.pk}").values_list("context", flat=True)
    assert contexts and all(c["branch_code"] == "BR001" for c in contexts)
