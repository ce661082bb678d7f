"""Browser journeys of a fault ticket, each step checked on the merchant's own ticket page."""

import re

import pytest

from repairs.models import FaultTicket
from tests.factories import (
    PASSWORD,
    ActiveTerminalFactory,
    BranchFactory,
    EngineerFactory,
    MerchantUserFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def cast(db):
    branch = BranchFactory(code="BR001", name="浦东支行", city="上海", address="陆家嘴环路1000号", phone="021-58880001")
    merchant = MerchantUserFactory(username="shopkeeper", first_name="Fang", last_name="Wang")
    return {
        "merchant": merchant,
        "agent": UserFactory(username="callcentre", first_name="Min", last_name="Zhang"),
        "engineer": EngineerFactory(username="fixer", branch=branch),
        "terminal": ActiveTerminalFactory(merchant=merchant.merchant, serial_number="SN-JOURNEY-1", tag_number="TAG-J-1"),
    }


def as_user(page, login, username):
    page.context.clear_cookies()
    login(username, PASSWORD)


def act(page, to, **fields):
    """Fill and submit the form of one transition, then wait for the ticket page to reload."""
    form = page.get_by_test_id(f"transition-{to}")
    for name, value in fields.items():
        if isinstance(value, list):
            for v in value:
                form.locator(f"input[name={name}][value={v}]").check()
        elif form.locator(f"select[name={name}]").count():
            form.locator(f"select[name={name}]").select_option(value)
        else:
            form.locator(f"[name={name}]").fill(value)
    form.get_by_test_id(f"do-{to}").click()
    page.wait_for_load_state("domcontentloaded")


def status_of(page):
    return page.get_by_test_id("ticket-status").get_attribute("data-status")


def timeline_statuses(page):
    return [el.get_attribute("data-to") for el in page.get_by_test_id("timeline-event").all()]


def test_it_resolves_a_fault_remotely(page, login, cast):
    # The merchant reports the fault.
    as_user(page, login, "shopkeeper")
    page.goto("/tickets/report/")
    page.select_option("select[name=fault_type]", "printer")
    page.fill("textarea[name=symptoms]", "No paper comes out")
    page.get_by_test_id("report-form").locator("input[type=submit]").click()
    page.get_by_test_id("service-order-no").wait_for()
    so = page.get_by_test_id("service-order-no").inner_text()
    assert re.fullmatch(r"SO\d{8}-\d{4}", so)
    assert status_of(page) == "reported"
    # The page that gives the number also says what to bring if the terminal has to go to a branch.
    bring = page.get_by_test_id("bring-documents")
    assert [li.inner_text().split(" (")[0] for li in bring.locator("li").all()] == [
        "Account-opening permit", "Business licence", "Operator's ID"]
    assert "TAG-J-1" in bring.inner_text()
    ticket_url = page.url

    # The agent takes it and resolves it remotely.
    as_user(page, login, "callcentre")
    page.goto("/tickets/?queue=new")
    page.get_by_role("link", name=so).click()
    act(page, "remote_diagnosis")
    assert status_of(page) == "remote_diagnosis"
    act(page, "resolved_remotely", note="Reset the printer driver remotely")
    assert status_of(page) == "resolved_remotely"

    # The merchant sees who helped and what was done, and confirms.
    as_user(page, login, "shopkeeper")
    page.goto(ticket_url)
    assert page.get_by_test_id("agent-name").inner_text() == "Min Zhang"
    assert "Reset the printer driver remotely" in page.get_by_test_id("timeline").inner_text()
    act(page, "closed")
    assert status_of(page) == "closed"
    assert timeline_statuses(page) == ["reported", "remote_diagnosis", "resolved_remotely", "closed"]


def test_it_repairs_a_terminal_at_the_branch(page, login, cast):
    terminal = cast["terminal"]
    # The agent logs the merchant's call and escalates to the branch.
    as_user(page, login, "callcentre")
    page.goto("/tickets/log-call/")
    page.get_by_test_id("call-search").locator("input[name=q]").fill(terminal.serial_number)
    page.get_by_test_id("call-search").locator("button").click()
    page.get_by_test_id(f"pick-{terminal.serial_number}").click()
    page.select_option("select[name=fault_type]", "cannot_accept_payment")
    page.fill("textarea[name=symptoms]", "Card declined: communication error")
    page.get_by_test_id("log-call-form").locator("input[type=submit]").click()
    page.get_by_test_id("read-back").wait_for()
    so = page.get_by_test_id("service-order-no").inner_text()
    ticket_url = page.url.split("?")[0]
    act(page, "awaiting_branch", branch="BR001", note="Please bring it to the branch")
    assert status_of(page) == "awaiting_branch"

    def merchant_sees(expected_status):
        as_user(page, login, "shopkeeper")
        page.goto(ticket_url)
        assert status_of(page) == expected_status
        assert timeline_statuses(page)[-1] == expected_status

    merchant_sees("awaiting_branch")
    assert "陆家嘴环路1000号" in page.get_by_test_id("branch-info").inner_text()

    # The engineer takes it in (tag and serial checked, documents ticked), diagnoses and repairs.
    as_user(page, login, "fixer")
    page.goto(ticket_url)
    act(page, "at_branch", tag_number=terminal.tag_number, serial_number=terminal.serial_number,
        documents=["account_opening_permit", "business_licence", "operator_id"])
    assert status_of(page) == "at_branch"
    act(page, "diagnosing")
    act(page, "repairing", diagnosis="Broken communication module")
    act(page, "network_testing", work_done="Replaced the communication module")
    act(page, "repairing", note="Handshake timeout")  # the first network test fails
    act(page, "network_testing", work_done="Re-seated the antenna")
    act(page, "ready_for_pickup", note="All transactions pass")
    assert status_of(page) == "ready_for_pickup"
    assert [t.get_attribute("data-passed") for t in page.get_by_test_id("network-test").all()] == ["0", "1"]

    # The merchant sees the pickup code...
    merchant_sees("ready_for_pickup")
    code = page.get_by_test_id("pickup-code").inner_text().strip()
    assert re.fullmatch(r"\d{6}", code)
    assert timeline_statuses(page) == [
        "reported", "remote_diagnosis", "awaiting_branch", "at_branch", "diagnosing", "repairing",
        "network_testing", "repairing", "network_testing", "ready_for_pickup",
    ]

    # ...the engineer hands it over against that code...
    as_user(page, login, "fixer")
    page.goto(ticket_url)
    act(page, "picked_up", pickup_code=code)
    assert status_of(page) == "picked_up"

    # ...and the merchant confirms it works.
    merchant_sees("picked_up")
    assert page.get_by_test_id("pickup-code").count() == 0
    act(page, "closed")
    assert status_of(page) == "closed"
    assert FaultTicket.objects.get(service_order_no=so).status == "closed"
