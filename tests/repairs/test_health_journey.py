"""Chromium: the simulator's fleet feeds the portal; an agent sees the terminal's health on the
ticket, applies the suggested fix and resolves the fault remotely."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from playwright.sync_api import expect

from bench.telemetry import Fleet, signed
from terminals.models import TelemetrySource
from tests.factories import PASSWORD, ActiveTerminalFactory
from tests.repairs.factories import make_ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("error_codes")]


def test_it_lets_an_agent_resolve_remotely_with_the_suggested_fix(page, login, people):
    people["agent"].language = "en"
    people["agent"].save()
    terminal = ActiveTerminalFactory(merchant=people["merchant"].merchant, serial_number="SIM000001")
    ticket = make_ticket(people, "remote_diagnosis", terminal=terminal)
    source = TelemetrySource.objects.create(key="paxstore", name="PAXSTORE")
    fleet = Fleet(serials=["SIM000001"])
    device = fleet.devices[0]
    device.silent, device.fault = False, "PAPER_OUT"
    fleet.random.seed(1)
    body, headers = signed(source.key, source.secret, list(fleet.play(datetime.now(UTC) - timedelta(hours=2), rounds=24)))
    assert Client().post("/api/v1/telemetry/", body, content_type="application/json", **headers).status_code == 200

    login(people["agent"].username, PASSWORD)
    page.goto(ticket.get_absolute_url())
    health = page.get_by_test_id("health")
    expect(health).to_contain_text("Terminal health")
    expect(health).to_contain_text(device.firmware)
    expect(health.get_by_role("img", name="Online, offline and errors over time")).to_be_visible()
    expect(page.get_by_test_id("error-codes")).to_contain_text("PAPER_OUT")
    fix = page.get_by_test_id("suggested-fix")
    expect(fix.get_by_label("Suggested remote fix (the resolution note)")).to_contain_text("paper roll")
    fix.get_by_role("button", name="Apply this fix and resolve remotely").click()
    expect(page.get_by_test_id("ticket-status")).to_have_text("Resolved remotely")
    expect(page.get_by_text("Guided the merchant to change the paper roll").first).to_be_visible()


def test_it_lets_an_agent_open_a_ticket_from_the_likely_faulty_queue(page, login, people):
    from repairs.models import FaultTicket
    from terminals.models import ErrorCode

    # A transactional test's database is emptied between tests: the seeded code table with it.
    ErrorCode.objects.update_or_create(code="CARD_READER", defaults={"title": "Card reader did not respond",
                                                                      "severity": "serious"})
    people["agent"].language = "en"
    people["agent"].save()
    terminal = ActiveTerminalFactory(merchant=people["merchant"].merchant, serial_number="SIM000002")
    source = TelemetrySource.objects.create(key="paxstore", name="PAXSTORE")
    fleet = Fleet(serials=["SIM000002"])
    device = fleet.devices[0]
    device.silent, device.fault = False, "CARD_READER"
    fleet.random.seed(1)
    body, headers = signed(source.key, source.secret, list(fleet.play(datetime.now(UTC) - timedelta(hours=2), rounds=24)))
    assert Client().post("/api/v1/telemetry/", body, content_type="application/json", **headers).status_code == 200

    login(people["agent"].username, PASSWORD)
    page.goto("/")
    page.get_by_role("link", name="Likely faulty").first.click()
    queue = page.get_by_test_id("likely-faulty")
    expect(queue).to_contain_text("SIM000002")
    expect(queue).to_contain_text("CARD_READER reported")
    queue.get_by_role("button", name="Open a ticket for terminal SIM000002").click()
    expect(page.get_by_test_id("ticket-status")).to_have_text("Remote diagnosis")
    expect(page.get_by_text("Monitoring").first).to_be_visible()
    ticket = FaultTicket.objects.get(terminal=terminal)
    assert ticket.source == "monitoring"
