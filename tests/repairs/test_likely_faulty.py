"""The agents' "likely faulty" queue: terminals silent in their merchant's business hours or
repeating a serious error, without an open ticket; a ticket opened from it (source "monitoring")."""

from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import override
from rest_framework.test import APIClient

from notifications.models import Notification
from repairs import monitoring
from repairs.models import FaultTicket
from terminals.models import HealthReport, TelemetrySource, Terminal
from terminals.selectors import business_hours_between
from tests.factories import ActiveTerminalFactory, BranchFactory, MerchantFactory

pytestmark = pytest.mark.django_db


def local(y, m, d, hh, mm=0):
    return timezone.make_aware(datetime(y, m, d, hh, mm))


@pytest.fixture
def source(db):
    BranchFactory(code="BR001")
    return TelemetrySource.objects.create(key="paxstore", name="PAXSTORE", secret="s3cret")


def report(source, terminal, at, *, online=True, code=""):
    errors = [{"code": code, "text": code}] if code else []
    return HealthReport.objects.create(source=source, terminal=terminal, reported_at=at, online=online,
                                       error_code=code, errors=errors)


def test_business_hours_count_only_the_merchants_opening_window():
    nine, nine_pm = time(9), time(21)
    # 20:00 → 10:00 next day: 20–21 and 09–10.
    assert business_hours_between(local(2026, 12, 1, 20), local(2026, 12, 2, 10), nine, nine_pm) == 2
    # Overnight only: nothing.
    assert business_hours_between(local(2026, 12, 1, 21, 30), local(2026, 12, 2, 8), nine, nine_pm) == 0
    # A window past midnight (18:00–02:00): 23:00 → 03:00 counts 23–02.
    assert business_hours_between(local(2026, 12, 1, 23), local(2026, 12, 2, 3), time(18), time(2)) == 3


def test_silent_in_business_hours_is_listed_silent_overnight_is_not(source, agent, settings):
    settings.LIKELY_FAULTY_SILENT_HOURS = 4
    now = local(2026, 12, 2, 14)  # 14:00 in Shanghai
    silent = ActiveTerminalFactory()  # 09:00–21:00 by default
    report(source, silent, local(2026, 12, 2, 9, 30))  # 4.5 business hours
    night = ActiveTerminalFactory(merchant=MerchantFactory(opens_at=time(18), closes_at=time(2)))
    report(source, night, local(2026, 12, 2, 2))  # 12 wall-clock hours, none of them open
    offline = ActiveTerminalFactory()
    report(source, offline, local(2026, 12, 2, 8))
    report(source, offline, local(2026, 12, 2, 13, 45), online=False)  # reports, but never online since 08:00
    fine = ActiveTerminalFactory()
    report(source, fine, local(2026, 12, 2, 13, 45))
    ActiveTerminalFactory()  # no health data: not monitored

    suspects = monitoring.likely_faulty(agent, now=now)

    assert {s.terminal for s in suspects} == {silent, offline}
    by_terminal = {s.terminal: s for s in suspects}
    assert by_terminal[silent].silent_hours == 4.5
    with override("en"):
        assert by_terminal[silent].reasons == ["No online report for 4 business hours"]


def test_a_serious_code_repeated_k_times_in_a_day_is_listed(source, agent, settings):
    settings.LIKELY_FAULTY_REPEATS = 3
    now = timezone.now()
    reader = ActiveTerminalFactory()
    for n in range(3):
        report(source, reader, now - timedelta(minutes=10 * n), code="CARD_READER")
    twice = ActiveTerminalFactory()
    for n in range(2):
        report(source, twice, now - timedelta(minutes=10 * n), code="NET_DOWN")
    old = ActiveTerminalFactory()
    for n in range(3):
        report(source, old, now - timedelta(days=1, minutes=10 * (n + 1)), code="NET_DOWN")
    report(source, old, now - timedelta(minutes=5))
    paper = ActiveTerminalFactory()  # PAPER_OUT is a warning, not serious
    for n in range(5):
        report(source, paper, now - timedelta(minutes=10 * n), code="PAPER_OUT")

    suspects = monitoring.likely_faulty(agent, now=now)

    assert [s.terminal for s in suspects] == [reader]
    with override("en"):
        assert suspects[0].reasons == ["CARD_READER reported 3 times in the last day"]


def _flagged(source, n, **terminal_fields):
    now = timezone.now()
    terminals = []
    for _ in range(n):
        terminal = ActiveTerminalFactory(**terminal_fields)
        for k in range(3):
            report(source, terminal, now - timedelta(minutes=5 * k), code="NET_DOWN")
        terminals.append(terminal)
    return terminals


def test_terminals_with_an_open_ticket_are_not_listed_and_merchants_see_no_queue(
        source, agent, merchant_user, client):
    flagged, ticketed = _flagged(source, 2, merchant=merchant_user.merchant)
    FaultTicket.objects.create(service_order_no="SO202612020001", terminal=ticketed, merchant=ticketed.merchant,
                               fault_type="network", symptoms="x", reported_by=merchant_user,
                               sla_due_at=timezone.now())

    assert [s.terminal for s in monitoring.likely_faulty(agent)] == [flagged]
    assert monitoring.likely_faulty(merchant_user) == []
    client.force_login(merchant_user)
    assert client.get(reverse("tickets:likely_faulty")).status_code == 403
    assert client.post(reverse("tickets:open_from_monitoring", args=[flagged.serial_number])).status_code == 403
    assert not flagged.tickets.exists()


def test_the_page_lists_the_queue_in_constant_queries_and_is_in_the_agents_navigation(
        source, agent, client, django_assert_max_num_queries):
    client.force_login(agent)
    _flagged(source, 2)
    with django_assert_max_num_queries(14) as small:
        response = client.get(reverse("tickets:likely_faulty"))
    _flagged(source, 30)
    with django_assert_max_num_queries(14) as large:
        second = client.get(reverse("tickets:likely_faulty"), {"page": 2})
    assert len(large.captured_queries) == len(small.captured_queries)
    html = response.content.decode()
    assert html.count('data-testid="likely-faulty"') == 1
    assert html.count("NET_DOWN") == 2
    assert f'href="{reverse("tickets:likely_faulty")}"' in html  # the navigation entry
    assert second.content.decode().count("NET_DOWN") == 32 - 25


def test_an_agent_opens_a_monitoring_ticket_and_the_merchant_is_told(source, agent, merchant_user, client):
    terminal, = _flagged(source, 1, merchant=merchant_user.merchant)
    client.force_login(agent)

    response = client.post(reverse("tickets:open_from_monitoring", args=[terminal.serial_number]))

    ticket = FaultTicket.objects.get(terminal=terminal)
    assert response.status_code == 302 and response["Location"] == ticket.get_absolute_url()
    assert ticket.source == FaultTicket.Source.MONITORING
    assert ticket.status == FaultTicket.Status.REMOTE_DIAGNOSIS  # the agent took it
    assert ticket.fault_type == FaultTicket.FaultType.NETWORK
    assert "NET_DOWN reported 3 times in the last day" in ticket.symptoms
    terminal.refresh_from_db()
    assert terminal.status == Terminal.Status.FAULTY
    assert Notification.objects.filter(recipient=merchant_user, kind="ticket.status").exists()
    client.force_login(merchant_user)
    with override("en"):
        page = client.get(ticket.get_absolute_url(), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Monitoring" in page or "监控发现" in page
    # Gone from the queue; a second try is refused and changes nothing.
    assert monitoring.likely_faulty(agent) == []
    client.force_login(agent)
    again = client.post(reverse("tickets:open_from_monitoring", args=[terminal.serial_number]), follow=True)
    assert "not in the likely-faulty queue" in again.content.decode() or "疑似故障队列" in again.content.decode()
    assert FaultTicket.objects.filter(terminal=terminal).count() == 1


def test_the_api_twin_lists_and_opens_through_the_same_service(source, agent, merchant_user,
                                                                django_assert_max_num_queries):
    terminal, = _flagged(source, 1, merchant=merchant_user.merchant)
    api = APIClient()
    api.force_authenticate(merchant_user)
    assert api.get("/api/v1/monitoring/likely-faulty/").status_code == 403
    assert api.post(f"/api/v1/monitoring/likely-faulty/{terminal.serial_number}/ticket/").status_code == 403
    api.force_authenticate(agent)
    with django_assert_max_num_queries(6):
        listing = api.get("/api/v1/monitoring/likely-faulty/")
    assert listing.status_code == 200
    body = listing.json()
    assert body["count"] == 1
    row = body["results"][0]
    assert row["serial_number"] == terminal.serial_number
    assert row["error_code"] == "NET_DOWN" and row["error_repeats"] == 3 and row["repeating"] is True

    created = api.post(f"/api/v1/monitoring/likely-faulty/{terminal.serial_number}/ticket/")
    assert created.status_code == 201
    assert created.json()["source"] == "monitoring"
    assert Notification.objects.filter(recipient=merchant_user, kind="ticket.status").exists()
    refused = api.post(f"/api/v1/monitoring/likely-faulty/{terminal.serial_number}/ticket/")
    assert refused.status_code == 400
    assert "terminal" in refused.json()
    unknown = api.post("/api/v1/monitoring/likely-faulty/NOSUCH123/ticket/")
    assert unknown.status_code == 400
    assert FaultTicket.objects.filter(terminal=terminal).count() == 1


def test_the_demo_agent_finds_a_likely_faulty_terminal(client):
    from django.core.management import call_command

    from portal.accounts.models import User

    call_command("seed_demo")
    agent = User.objects.get(username="agent")
    suspects = monitoring.likely_faulty(agent)
    assert "0820A9200201" in [s.terminal.serial_number for s in suspects]
    client.force_login(agent)
    assert "0820A9200201" in client.get(reverse("tickets:likely_faulty")).content.decode()
