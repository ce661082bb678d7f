"""The terminal's health on its ticket and terminal pages (repairs.health, terminals.selectors)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from repairs.models import FaultTicket
from terminals.models import ErrorCode, HealthReport, TelemetrySource

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("error_codes")]


@pytest.fixture
def source(db):
    return TelemetrySource.objects.create(key="paxstore", name="PAXSTORE")


def _reports(source, terminal, hours=24, paper_out_from=3):
    # On the hour, so the chart's clock hours hold whole runs of reports: n = 37..60 (two hours,
    # 24 reports) are the offline ones.
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    rows = []
    for n in range(hours * 12):  # every five minutes
        at = now - timedelta(minutes=5 * n)
        paper = n < paper_out_from * 12
        errors = [{"code": "PAPER_OUT", "text": "Printer out of paper"}] if paper else []
        rows.append(HealthReport(
            source=source, terminal=terminal, reported_at=at, online=not (37 <= n <= 60),
            firmware_version="3.4.0", software_version="PayApp 6.0.1", network_type="cellular",
            signal_strength=71, battery_percent=88, paper_out=paper, printer_status="fault" if paper else "ok",
            card_reader_status="ok", error_code=errors[0]["code"] if errors else "", errors=errors,
        ))
    HealthReport.objects.bulk_create(rows)


def _ticket_page(client, ticket):
    return client.get(ticket.get_absolute_url()).content.decode()


def test_it_shows_the_agent_the_terminals_health_on_the_ticket(agent_client, ticket_at, source):
    ticket = ticket_at("remote_diagnosis")
    _reports(source, ticket.terminal)
    html = _ticket_page(agent_client, ticket)
    assert 'data-testid="health"' in html and "3.4.0" in html and "PayApp 6.0.1" in html
    assert "signal 71 %" in html and "paper out" in html
    # The chart is inline SVG with a text alternative: the two offline hours are counted.
    assert '<svg class="health-chart' in html and 'role="img"' in html and "<desc" in html
    assert "offline 2 h" in html
    # The code is explained from the code table, with its fix ready to apply.
    assert "Printer out of paper" in html and ErrorCode.objects.get(code="PAPER_OUT").suggested_fix[:30] in html
    assert 'data-testid="suggested-fix"' in html


def test_it_resolves_remotely_with_the_suggested_fix_as_the_note(agent_client, ticket_at, source):
    ticket = ticket_at("remote_diagnosis")
    _reports(source, ticket.terminal)
    fix = ErrorCode.objects.get(code="PAPER_OUT").suggested_fix
    response = agent_client.post(f"/tickets/{ticket.service_order_no}/transition/", {"to": "resolved_remotely", "note": fix})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == FaultTicket.Status.RESOLVED_REMOTELY
    assert ticket.events.order_by("-pk").first().note == fix


def test_it_offers_no_fix_outside_remote_diagnosis_and_nothing_to_merchants(
    client, agent, merchant_user, ticket_at, source
):
    ticket = ticket_at("reported")
    _reports(source, ticket.terminal)
    client.force_login(agent)
    html = _ticket_page(client, ticket)
    assert 'data-testid="health"' in html and 'data-testid="suggested-fix"' not in html
    assert "Suggested remote fix:" in html
    client.force_login(merchant_user)
    assert 'data-testid="health"' not in _ticket_page(client, ticket)


def test_it_says_when_there_are_no_reports(agent_client, ticket_at):
    html = _ticket_page(agent_client, ticket_at("remote_diagnosis"))
    assert "No health reports from the terminal-management system yet." in html


def test_it_shows_the_health_on_the_terminal_page_to_staff(client, agent, merchant_user, terminal, source):
    _reports(source, terminal, hours=2)
    client.force_login(agent)
    assert 'data-testid="health"' in client.get(terminal.get_absolute_url()).content.decode()
    client.force_login(merchant_user)
    assert 'data-testid="health"' not in client.get(terminal.get_absolute_url()).content.decode()


def test_the_panel_costs_the_same_queries_with_a_week_of_reports(agent_client, ticket_at, source, django_assert_max_num_queries):
    ticket = ticket_at("remote_diagnosis")
    _reports(source, ticket.terminal, hours=1)
    with django_assert_max_num_queries(60) as few:
        agent_client.get(ticket.get_absolute_url())
    small = len(few)
    HealthReport.objects.all().delete()
    _reports(source, ticket.terminal, hours=24 * 7)
    with django_assert_max_num_queries(small):
        agent_client.get(ticket.get_absolute_url())


def test_the_panel_is_valid_html(client, agent, ticket_at, source):
    from tests.accessibility import vnu

    ticket = ticket_at("remote_diagnosis")
    _reports(source, ticket.terminal)
    client.force_login(agent)
    documents = {
        "ticket": _ticket_page(client, ticket),
        "terminal": client.get(ticket.terminal.get_absolute_url()).content.decode(),
    }
    errors = vnu.validate(documents)
    assert not errors, vnu.report(errors)
