"""A loaner terminal lent at intake and checked back in at pickup, in Chromium."""

import pytest

from repairs.models import FaultTicket
from repairs.workflow import ticket_transition
from terminals import loaners
from tests.factories import PASSWORD, TerminalFactory
from tests.repairs.factories import fields_for, make_ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
S = FaultTicket.Status


def as_user(page, login, user):
    page.context.clear_cookies()
    login(user.username, PASSWORD)


def test_it_lends_a_loaner_at_intake_and_takes_it_back_at_pickup(page, login, merchant_user, agent, engineer,
                                                                 admin_user):
    people = {"merchant": merchant_user, "agent": agent, "engineer": engineer}
    ticket = make_ticket(people, S.AT_BRANCH)
    loaner = TerminalFactory(serial_number="LOANER-0001", tag_number="TAG-LOAN-1")
    loaners.add_to_pool(terminal=loaner, branch=engineer.branch, actor=admin_user)

    # The engineer lends the loaner from the ticket page, checking serial and tag.
    as_user(page, login, engineer)
    page.goto(ticket.get_absolute_url())
    form = page.get_by_test_id("loaner-lend-form")
    form.locator("[name=serial_number]").fill("LOANER-0001")
    form.locator("[name=tag_number]").fill("TAG-LOAN-1")
    form.get_by_test_id("loaner-lend").click()
    page.wait_for_load_state("domcontentloaded")
    assert page.get_by_test_id("loaner-return-form").is_visible()

    # The merchant sees it on the ticket and on its terminal list.
    as_user(page, login, merchant_user)
    page.goto(ticket.get_absolute_url())
    assert page.get_by_test_id("loaner-notice").inner_text() == "On loan: LOANER-0001 — return it at pickup."
    page.goto("/terminals/mine/")
    assert "LOANER-0001" in page.get_by_test_id("on-loan").inner_text()

    # Repaired; the pickup is refused while the loaner is out…
    for target in (S.DIAGNOSING, S.REPAIRING, S.NETWORK_TESTING, S.READY_FOR_PICKUP):
        ticket.refresh_from_db()
        ticket_transition(ticket=ticket, to=target, actor=engineer, **fields_for(ticket, ticket.status, target))
    code = fields_for(ticket, S.READY_FOR_PICKUP, S.PICKED_UP)["pickup_code"]
    as_user(page, login, engineer)
    page.goto(ticket.get_absolute_url())
    pickup = page.get_by_test_id("transition-picked_up")
    pickup.locator("[name=pickup_code]").fill(code)
    pickup.get_by_test_id("do-picked_up").click()
    page.wait_for_load_state("domcontentloaded")
    assert "Loaner LOANER-0001 is still with the merchant" in page.content()
    assert page.get_by_test_id("ticket-status").get_attribute("data-status") == "ready_for_pickup"

    # …so the engineer checks the loaner in by serial and tag, then hands the terminal over.
    page.goto(ticket.get_absolute_url())
    back = page.get_by_test_id("loaner-return-form")
    back.locator("[name=serial_number]").fill("LOANER-0001")
    back.locator("[name=tag_number]").fill("TAG-LOAN-1")
    back.get_by_test_id("loaner-return").click()
    page.wait_for_load_state("domcontentloaded")
    pickup = page.get_by_test_id("transition-picked_up")
    pickup.locator("[name=pickup_code]").fill(code)
    pickup.get_by_test_id("do-picked_up").click()
    page.wait_for_load_state("domcontentloaded")
    assert page.get_by_test_id("ticket-status").get_attribute("data-status") == "picked_up"
    page.goto("/tickets/loaners/")
    assert "Awaiting cleaning and inspection" in page.get_by_test_id("loaner-list").inner_text()
