"""The replacement journey in Chromium: unrepairable → application → review → activation → ticket closed."""

import pytest
from django.utils import timezone

from repairs import workflow as tickets
from repairs.models import FaultTicket
from terminals.models import Terminal
from tests.applications import factories as f
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _ticket_at_diagnosis(merchant_user, agent, engineer, branch, channel):
    """The earlier steps of the tickets area (tested there), through its workflow."""
    old = f.terminal(channel, merchant=merchant_user.merchant, status=Terminal.Status.ACTIVE, home_branch=branch)
    ticket = tickets.create_ticket(terminal=old, actor=merchant_user, fault_type="system_fault",
                                   symptoms="开机后黑屏，无法交易")
    tickets.ticket_transition(ticket=ticket, to="remote_diagnosis", actor=agent)
    tickets.ticket_transition(ticket=ticket, to="awaiting_branch", actor=agent, branch=branch.code)
    tickets.ticket_transition(ticket=ticket, to="at_branch", actor=engineer, tag_number=old.tag_number,
                              serial_number=old.serial_number, documents=["business_licence"])
    tickets.ticket_transition(ticket=ticket, to="diagnosing", actor=engineer)
    return ticket


def _sign_in(page, login, user):
    page.context.clear_cookies()
    login(user.username, PASSWORD)


def test_it_replaces_an_unrepairable_terminal_end_to_end(page, login, merchant_user, agent, engineer, branch,
                                                        reviewer, channel):
    ticket = _ticket_at_diagnosis(merchant_user, agent, engineer, branch, channel)
    stock = f.terminal(channel)
    no = ticket.service_order_no

    # The engineer finds the terminal cannot be repaired.
    _sign_in(page, login, engineer)
    page.goto(f"/tickets/{no}/")
    form = page.get_by_test_id("transition-unrepairable")
    form.locator("textarea, input[type=text]").first.fill("主板损坏，无备件")
    form.get_by_test_id("do-unrepairable").click()
    page.get_by_test_id("ticket-status").and_(page.locator("[data-status=unrepairable]")).wait_for()

    # The merchant, on that ticket's page, is offered the next step: a replacement.
    _sign_in(page, login, merchant_user)
    page.goto(f"/tickets/{no}/")
    page.get_by_test_id("replacement-panel").get_by_role("link", name="Apply for a replacement").click()
    assert no in page.get_by_test_id("replacement-of").inner_text()
    page.get_by_label("Refundable deposit", exact=False).check()
    page.get_by_test_id("create-application").click()
    number = page.get_by_test_id("application-number").inner_text()
    assert "Upload these documents first" in page.get_by_test_id("submit-hint").inner_text()
    for kind in ("business_licence", "legal_rep_id", "premises_proof"):
        upload = page.get_by_test_id("upload-form")
        upload.locator("select[name=kind]").select_option(kind)
        upload.locator("input[type=file]").set_input_files(
            {"name": f"{kind}.pdf", "mimeType": "application/pdf", "buffer": f.PDF}
        )
        page.get_by_test_id("upload").click()
        page.get_by_test_id(f"verdict-{kind}").wait_for()
    # With all three uploaded, the page says so instead of still asking for them.
    assert page.get_by_test_id("submit-hint").inner_text().strip() == (
        "All three documents are uploaded: you can submit the application.")
    page.get_by_test_id("do-submitted").click()
    assert page.get_by_test_id("application-status").inner_text() == "Submitted"

    # The reviewer checks, inspects, approves, signs, assigns, records the destruction, activates.
    _sign_in(page, login, reviewer)
    page.goto("/applications/queue/")
    page.get_by_test_id("queue-link").filter(has_text=number).click()
    page.get_by_test_id("do-under_review").click()
    # Each document's buttons say which document they are for.
    for kind, label in (("business_licence", "Business licence"), ("legal_rep_id", "Legal representative's ID"),
                        ("premises_proof", "Proof of business premises")):
        assert page.get_by_role("button", name=f"Reject {label}", exact=True).count() == 1
        page.get_by_role("button", name=f"Verify {label}", exact=True).click()
        assert page.get_by_test_id(f"verdict-{kind}").inner_text() == "Verified"
    # The long "documents checked" button stays inside its card, on a laptop and on a phone.
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 800})
        card, button = page.get_by_test_id("actions").bounding_box(), page.get_by_test_id("do-inspection").bounding_box()
        assert card["x"] <= button["x"] and button["x"] + button["width"] <= card["x"] + card["width"], (width, card, button)
    page.set_viewport_size({"width": 1280, "height": 720})
    page.get_by_test_id("do-inspection").click()
    today = timezone.localdate().isoformat()
    page.fill("input[name=interview_date]", today)
    page.fill("textarea[name=interview_notes]", "法人到场面谈")
    page.fill("input[name=inspection_date]", today)
    page.fill("textarea[name=inspection_notes]", "经营场所与执照一致")
    page.get_by_role("button", name="Save the inspection record").click()
    page.get_by_test_id("do-approved").click()
    page.fill("input[name=contract_number]", "HT-2026-0099")
    page.get_by_test_id("do-contract_signed").click()
    page.locator("select[name=terminal]").select_option(stock.serial_number)
    page.get_by_test_id("do-device_assigned").click()
    page.locator("textarea[name=training_notes]").fill("两名收银员已培训")
    page.get_by_test_id("do-activated").click()
    assert "deregistration record" in page.locator(".alert-danger").first.inner_text()
    page.fill("input[name=certificate_number]", "XH-2026-0007")
    page.fill("input[name=witness]", "赵六")
    page.get_by_role("button", name="Record the deregistration").click()
    page.locator("textarea[name=training_notes]").fill("两名收银员已培训")
    page.get_by_test_id("do-activated").click()
    assert page.get_by_test_id("application-status").inner_text() == "Activated"

    # The ticket closed by itself; the merchant sees the new terminal active.
    _sign_in(page, login, merchant_user)
    page.goto(f"/tickets/{no}/")
    assert page.get_by_test_id("ticket-status").get_attribute("data-status") == "closed"
    page.goto("/applications/")
    page.get_by_test_id("application-link").filter(has_text=number).click()
    assert page.get_by_test_id("activated").is_visible()
    assigned = page.get_by_test_id("assigned-terminals").inner_text()
    assert stock.serial_number in assigned and "Active" in assigned
    assert page.get_by_test_id("deposit").is_visible()
    ticket.refresh_from_db()
    assert ticket.status == FaultTicket.Status.CLOSED
