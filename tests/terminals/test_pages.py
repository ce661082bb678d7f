import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from terminals.models import Deregistration, MaintenanceRecord, Terminal
from tests.factories import (
    ActiveTerminalFactory,
    BranchFactory,
    ChannelFactory,
    MerchantFactory,
    TerminalFactory,
)
from tests.terminals.factories import MaintenanceRecordFactory

pytestmark = pytest.mark.django_db


def _detail(t):
    return reverse("terminals:detail", args=[t.serial_number])


def _count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


# --- Merchant pages ----------------------------------------------------------------------------


def test_it_lists_my_terminals_with_status_badges(merchant_client, terminal, merchant):
    ActiveTerminalFactory(merchant=merchant, serial_number="N7SP63000001", model="Newland SP630")
    ActiveTerminalFactory(serial_number="OTHER0000001")  # another merchant's
    body = merchant_client.get(reverse("terminals:mine")).content.decode()
    assert terminal.serial_number in body and "N7SP63000001" in body
    assert "OTHER0000001" not in body
    assert "text-bg-success" in body


def test_it_sends_staff_from_my_terminals_to_the_registry(agent_client):
    assert agent_client.get(reverse("terminals:mine")).url == reverse("terminals:list")


def test_it_runs_the_same_queries_for_5_and_200_of_my_terminals(
    merchant_client, merchant, django_assert_max_num_queries
):
    for _ in range(5):
        MaintenanceRecordFactory(terminal=ActiveTerminalFactory(merchant=merchant))
    small = _count_queries(merchant_client, reverse("terminals:mine"))
    for _ in range(195):
        ActiveTerminalFactory(merchant=merchant)
    with django_assert_max_num_queries(small):
        merchant_client.get(reverse("terminals:mine"))


def test_it_shows_the_terminal_page_with_timeline_care_and_last_dates(merchant_client, terminal, merchant_user):
    MaintenanceRecordFactory(terminal=terminal, kind="paper_roll", done_by=merchant_user)
    body = merchant_client.get(_detail(terminal)).content.decode()
    assert 'data-testid="timeline"' in body
    assert "Paper-roll change" in body and "Registered" in body
    assert "Never lend it to another business" in body
    assert 'data-testid="log-cleaning"' in body
    assert 'data-testid="staff-actions"' not in body


def test_it_logs_a_cleaning_from_the_terminal_page(merchant_client, terminal):
    response = merchant_client.post(reverse("terminals:log_maintenance", args=[terminal.serial_number]),
                                    {"kind": "cleaning"})
    assert response.status_code == 302 and response.url == _detail(terminal)
    record = MaintenanceRecord.objects.get(terminal=terminal)
    assert record.kind == "cleaning"
    body = merchant_client.get(_detail(terminal)).content.decode()
    assert "Cleaning recorded" in body


def test_it_refuses_maintenance_on_get(merchant_client, terminal):
    url = reverse("terminals:log_maintenance", args=[terminal.serial_number])
    assert merchant_client.get(url).status_code == 405


def test_it_answers_404_for_another_merchants_terminal(other_client, terminal):
    assert other_client.get(_detail(terminal)).status_code == 404
    response = other_client.post(reverse("terminals:log_maintenance", args=[terminal.serial_number]),
                                 {"kind": "cleaning"})
    assert response.status_code == 404
    assert not MaintenanceRecord.objects.exists()


def test_it_keeps_the_timeline_query_count_flat(merchant_client, terminal, merchant_user, django_assert_max_num_queries):
    MaintenanceRecordFactory(terminal=terminal, done_by=merchant_user)
    small = _count_queries(merchant_client, _detail(terminal))
    for _ in range(30):
        MaintenanceRecordFactory(terminal=terminal, done_by=merchant_user, kind="paper_roll")
    with django_assert_max_num_queries(small):
        merchant_client.get(_detail(terminal))


# --- Staff list and export ---------------------------------------------------------------------


@pytest.fixture
def registry(db):
    bank = ChannelFactory(code="BANK")
    yinxin = ChannelFactory(code="YINXIN")
    br = BranchFactory(code="BR009")
    shop = MerchantFactory(name="鑫源便利店")
    a = ActiveTerminalFactory(serial_number="0820A9200001", tag_number="TAG-A", merchant=shop, channel=bank,
                              tid="AB12CD34", mid="898310058120001", home_branch=br)
    b = TerminalFactory(serial_number="N7SP63000002", tag_number="TAG-B", model="Newland SP630", channel=yinxin)
    return a, b


@pytest.mark.parametrize(
    "params,expected",
    [
        ({"q": "A9200001"}, {"0820A9200001"}),
        ({"q": "TAG-B"}, {"N7SP63000002"}),
        ({"q": "ab12cd34"}, {"0820A9200001"}),
        ({"q": "898310058120001"}, {"0820A9200001"}),
        ({"q": "鑫源"}, {"0820A9200001"}),
        ({"status": "in_stock"}, {"N7SP63000002"}),
        ({"channel": "YINXIN"}, {"N7SP63000002"}),
        ({"branch": "BR009"}, {"0820A9200001"}),
        ({"model": "Newland SP630"}, {"N7SP63000002"}),
        ({}, {"0820A9200001", "N7SP63000002"}),
    ],
)
def test_it_searches_and_filters_the_registry(agent_client, registry, params, expected):
    response = agent_client.get(reverse("terminals:list"), params)
    assert {t.serial_number for t in response.context["page"]} == expected


def test_it_keeps_the_registry_to_staff(merchant_client):
    assert merchant_client.get(reverse("terminals:list")).status_code == 403
    assert merchant_client.get(reverse("terminals:export")).status_code == 403


def test_it_runs_the_same_queries_for_5_and_200_terminals_in_the_registry(agent_client, django_assert_max_num_queries):
    for _ in range(5):
        ActiveTerminalFactory()
    small = _count_queries(agent_client, reverse("terminals:list") + "?status=active")
    for _ in range(195):
        ActiveTerminalFactory()
    with django_assert_max_num_queries(small):
        agent_client.get(reverse("terminals:list") + "?status=active")


def test_it_streams_the_filtered_list_as_csv(agent_client, registry):
    response = agent_client.get(reverse("terminals:export"), {"channel": "BANK"})
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["serial_number"] for r in rows] == ["0820A9200001"]
    assert rows[0]["merchant_name"] == "鑫源便利店" and rows[0]["tid"] == "AB12CD34"
    assert rows[0]["channel"] == "BANK" and rows[0]["status"] == "active"


# --- Staff actions -----------------------------------------------------------------------------


def test_it_lets_a_manager_issue_a_stock_terminal_and_activate_it(manager_client, stock_terminal, merchant):
    url = reverse("terminals:issue", args=[stock_terminal.serial_number])
    response = manager_client.post(url, {"merchant": merchant.credit_code})
    assert response.status_code == 302
    stock_terminal.refresh_from_db()
    assert stock_terminal.merchant == merchant and stock_terminal.status == Terminal.Status.PENDING_ACTIVATION
    url = reverse("terminals:activate", args=[stock_terminal.serial_number])
    assert manager_client.post(url, {"tid": "bad", "mid": "1"}).status_code == 400
    assert manager_client.post(url, {"tid": "31000001", "mid": "898310058120001"}).status_code == 302
    stock_terminal.refresh_from_db()
    assert stock_terminal.status == Terminal.Status.ACTIVE and stock_terminal.tid == "31000001"


def test_it_keeps_lifecycle_actions_to_managers(agent_client, engineer_client, stock_terminal, merchant):
    url = reverse("terminals:issue", args=[stock_terminal.serial_number])
    for c in (agent_client, engineer_client):
        assert c.post(url, {"merchant": merchant.credit_code}).status_code == 403
    stock_terminal.refresh_from_db()
    assert stock_terminal.merchant is None


def test_it_deregisters_only_after_the_confirm_step(manager_client, terminal):
    url = reverse("terminals:deregister", args=[terminal.serial_number])
    data = {"method": "returned", "certificate_number": "ZX-2026-01", "witness": "刘审核", "date": "2026-01-05"}
    response = manager_client.post(url, data)
    assert response.status_code == 200 and response.context["confirming"]
    assert 'data-testid="confirm-step"' in response.content.decode()
    assert not Deregistration.objects.exists()
    response = manager_client.post(url, {**data, "confirmed": "True"})
    assert response.status_code == 302
    record = Deregistration.objects.get()
    assert (record.certificate_number, record.witness, str(record.date)) == ("ZX-2026-01", "刘审核", "2026-01-05")
    terminal.refresh_from_db()
    assert terminal.status == Terminal.Status.DEREGISTERED
    # Irreversible: asking again is refused with a message and writes nothing.
    manager_client.post(url, {**data, "confirmed": "True"})
    assert Deregistration.objects.count() == 1


def test_it_shows_deregistration_field_errors(manager_client, terminal):
    url = reverse("terminals:deregister", args=[terminal.serial_number])
    response = manager_client.post(url, {"method": "returned", "confirmed": "True"})
    assert response.status_code == 400
    assert not Deregistration.objects.exists()


def test_it_summarises_my_terminals_on_the_merchant_home(merchant_client, terminal):
    body = merchant_client.get(reverse("home")).content.decode()
    assert 'data-testid="my-terminals-summary"' in body
    assert terminal.serial_number in body


def test_it_shows_staff_the_terminal_page_with_their_actions(manager_client, stock_terminal):
    body = manager_client.get(_detail(stock_terminal)).content.decode()
    assert 'data-testid="staff-actions"' in body and "Issue to a merchant" in body
