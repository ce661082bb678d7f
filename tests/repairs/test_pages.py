"""The ticket pages: each role's view, ownership 404s, POST-only transitions, refusals, uploads."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from repairs.models import FaultTicket, TicketAttachment, TicketComment
from repairs.workflow import create_ticket
from terminals.models import Terminal
from tests.factories import ActiveTerminalFactory, UserFactory

pytestmark = pytest.mark.django_db
S = FaultTicket.Status


def detail(ticket):
    return reverse("tickets:detail", args=[ticket.service_order_no])


def post_transition(client, ticket, to, **data):
    return client.post(reverse("tickets:transition", args=[ticket.service_order_no]), {"to": to, **data})


def png_bytes():
    buf = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buf, "PNG")
    return buf.getvalue()


# --- merchant -------------------------------------------------------------------------------


def test_it_lets_a_merchant_report_a_fault(merchant_client, terminal):
    page = merchant_client.get(reverse("tickets:report"))
    assert page.status_code == 200
    assert terminal.serial_number in page.content.decode()
    assert "before opening" in page.content.decode() or "after closing" in page.content.decode()
    response = merchant_client.post(
        reverse("tickets:report"),
        {"terminal": terminal.serial_number, "fault_type": "printer", "symptoms": "No paper", "contact_window": "07:00"},
    )
    ticket = FaultTicket.objects.get()
    assert response.status_code == 302 and response.url == detail(ticket)
    assert ticket.status == S.REPORTED and ticket.source == "portal"
    terminal.refresh_from_db()
    assert terminal.status == Terminal.Status.FAULTY


def test_it_refuses_another_merchants_terminal_in_the_report_form(merchant_client, other_merchant_user):
    theirs = ActiveTerminalFactory(merchant=other_merchant_user.merchant)
    response = merchant_client.post(
        reverse("tickets:report"), {"terminal": theirs.serial_number, "fault_type": "printer", "symptoms": "x"}
    )
    assert response.status_code == 400
    assert FaultTicket.objects.count() == 0


def test_it_shows_the_merchant_its_ticket_with_timeline_and_stepper(merchant_client, ticket_at):
    ticket = ticket_at(S.AWAITING_BRANCH)
    body = merchant_client.get(detail(ticket)).content.decode()
    assert ticket.service_order_no in body
    assert ticket.agent_name in body
    assert 'data-testid="branch-info"' in body and ticket.branch.address in body and ticket.branch.phone in body
    assert 'data-step="branch" data-state="current"' in body
    assert 'data-testid="pickup-code"' not in body
    assert 'data-testid="transition-cancelled"' in body  # the merchant may cancel now
    assert 'data-testid="transition-at_branch"' not in body  # but not take it in


def test_it_shows_the_pickup_code_only_to_the_owning_merchant(client, merchant_user, people, ticket_at):
    ticket = ticket_at(S.READY_FOR_PICKUP)
    code = ticket.repair_request.pickup_code
    client.force_login(merchant_user)
    assert code in client.get(detail(ticket)).content.decode()
    for staff in (people["engineer"], people["agent"]):
        client.force_login(staff)
        body = client.get(detail(ticket)).content.decode()
        assert 'data-testid="pickup-code"' not in body


def test_it_hides_internal_comments_and_events_from_the_merchant(client, merchant_user, people, ticket_at):
    ticket = ticket_at(S.REMOTE_DIAGNOSIS)
    client.force_login(people["agent"])
    client.post(reverse("tickets:comment", args=[ticket.service_order_no]), {"body": "secret staff note"})
    client.post(reverse("tickets:comment", args=[ticket.service_order_no]),
                {"body": "we will call you", "is_public": "on"})
    assert "secret staff note" in client.get(detail(ticket)).content.decode()
    client.force_login(merchant_user)
    body = client.get(detail(ticket)).content.decode()
    assert "we will call you" in body
    assert "secret staff note" not in body


def test_it_shows_html_in_text_fields_as_text(merchant_client, merchant_user, terminal):
    merchant_client.post(
        reverse("tickets:report"),
        {"terminal": terminal.serial_number, "fault_type": "other", "symptoms": "<script>alert(1)</script>"},
    )
    ticket = FaultTicket.objects.get()
    merchant_client.post(reverse("tickets:comment", args=[ticket.service_order_no]), {"body": "<b>bold</b>"})
    body = merchant_client.get(detail(ticket)).content.decode()
    assert "<script>alert(1)</script>" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<b>bold</b>" not in body and "&lt;b&gt;bold&lt;/b&gt;" in body


def test_it_lets_the_merchant_confirm_a_remote_resolution(merchant_client, ticket_at):
    ticket = ticket_at(S.RESOLVED_REMOTELY)
    response = post_transition(merchant_client, ticket, S.CLOSED, version=ticket.version)
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == S.CLOSED


def test_it_refuses_a_transition_the_user_may_not_make_and_changes_nothing(merchant_client, ticket_at):
    ticket = ticket_at(S.REPORTED)
    response = post_transition(merchant_client, ticket, S.REMOTE_DIAGNOSIS)
    # Not this user's step: refused like every workflow's forbidden step, with the reason.
    assert response.status_code == 403
    ticket.refresh_from_db()
    assert ticket.status == S.REPORTED
    assert "Nothing was changed" in response.content.decode()


def test_it_says_the_ticket_changed_when_the_form_is_stale(agent_client, people, ticket_at):
    from repairs.workflow import ticket_transition

    ticket = ticket_at(S.REMOTE_DIAGNOSIS)
    seen = ticket.version
    ticket_transition(ticket=ticket, to=S.CANCELLED, actor=people["merchant"], note="fixed")
    response = post_transition(agent_client, ticket, S.RESOLVED_REMOTELY, note="done", version=seen)
    assert response.status_code == 302
    assert "changed while you were looking" in agent_client.get(response.url).content.decode()
    ticket.refresh_from_db()
    assert ticket.status == S.CANCELLED


def test_it_refuses_changes_by_get(agent_client, ticket_at):
    ticket = ticket_at(S.REPORTED)
    response = agent_client.get(reverse("tickets:transition", args=[ticket.service_order_no]) + "?to=remote_diagnosis")
    assert response.status_code == 405
    ticket.refresh_from_db()
    assert ticket.status == S.REPORTED


@pytest.mark.parametrize(
    ("name", "method"),
    [("tickets:detail", "get"), ("tickets:transition", "post"), ("tickets:comment", "post"),
     ("tickets:attach", "post"), ("tickets:reissue_code", "post")],
)
def test_it_answers_404_for_another_merchants_ticket(other_client, ticket_at, name, method):
    ticket = ticket_at(S.AT_BRANCH)
    url = reverse(name, args=[ticket.service_order_no])
    response = getattr(other_client, method)(url, {"to": "cancelled", "note": "x", "body": "x"})
    assert response.status_code == 404
    ticket.refresh_from_db()
    assert ticket.status == S.AT_BRANCH and not ticket.comments.exists()


def test_it_keeps_merchants_away_from_the_printable_form(merchant_client, ticket_at):
    ticket = ticket_at(S.AT_BRANCH)
    assert merchant_client.get(reverse("tickets:repair_form", args=[ticket.service_order_no])).status_code == 403


def test_it_lists_only_the_merchants_own_tickets(merchant_client, ticket_at, other_merchant_user):
    mine = ticket_at(S.REPORTED)
    theirs = create_ticket(terminal=ActiveTerminalFactory(merchant=other_merchant_user.merchant), actor=other_merchant_user,
                           fault_type="printer", symptoms="x")
    body = merchant_client.get(reverse("tickets:list")).content.decode()
    assert mine.service_order_no in body and theirs.service_order_no not in body


# --- agent ----------------------------------------------------------------------------------


def test_it_lets_an_agent_log_a_call(agent_client, agent, merchant, terminal):
    found = agent_client.get(reverse("tickets:log_call"), {"q": merchant.name}).content.decode()
    assert terminal.serial_number in found
    found = agent_client.get(reverse("tickets:log_call"), {"q": terminal.serial_number}).content.decode()
    assert merchant.name in found
    url = reverse("tickets:log_call") + f"?terminal={terminal.serial_number}"
    response = agent_client.post(url, {"terminal": terminal.serial_number, "fault_type": "cannot_accept_payment",
                                       "symptoms": "declines every card", "priority": "high"})
    ticket = FaultTicket.objects.get()
    assert response.status_code == 302 and response.url.endswith("?logged=1")
    assert ticket.status == S.REMOTE_DIAGNOSIS and ticket.agent == agent and ticket.source == "phone"
    body = agent_client.get(response.url).content.decode()
    assert 'data-testid="read-back"' in body and ticket.service_order_no in body and agent.display_name in body


def test_it_finds_the_caller_by_phone(agent_client, merchant, terminal):
    found = agent_client.get(reverse("tickets:log_call"), {"q": merchant.contact_phone}).content.decode()
    assert terminal.serial_number in found


def test_it_keeps_merchants_out_of_the_agent_pages(merchant_client):
    assert merchant_client.get(reverse("tickets:log_call")).status_code == 403


def test_it_offers_branches_of_the_merchants_city_first(agent_client, ticket_at):
    from tests.factories import BranchFactory

    BranchFactory(code="BR000", city="杭州", name="杭州网点")
    ticket = ticket_at(S.REMOTE_DIAGNOSIS)  # merchant in 上海, BR001 in 上海
    body = agent_client.get(detail(ticket)).content.decode()
    assert body.index('value="BR001"') < body.index('value="BR000"')


def test_it_shows_the_agent_queues_with_overdue_tickets_standing_out(agent_client, agent, ticket_at):
    new = ticket_at(S.REPORTED)
    FaultTicket.objects.filter(pk=new.pk).update(sla_due_at="2020-01-01T00:00:00Z")
    body = agent_client.get(reverse("tickets:list"), {"queue": "overdue"}).content.decode()
    assert new.service_order_no in body and 'data-testid="overdue"' in body and "table-danger" in body
    assert new.service_order_no not in agent_client.get(reverse("tickets:list"), {"queue": "mine"}).content.decode()


# --- engineer -------------------------------------------------------------------------------


def test_it_walks_an_engineer_through_intake_and_repair(engineer_client, ticket_at):
    ticket = ticket_at(S.AWAITING_BRANCH)
    t = ticket.terminal
    queue = engineer_client.get(reverse("tickets:list"), {"status": "awaiting_branch"}).content.decode()
    assert ticket.service_order_no in queue
    bad = post_transition(engineer_client, ticket, S.AT_BRANCH, tag_number="WRONG", serial_number=t.serial_number,
                          documents=["business_licence"], version=ticket.version)
    assert bad.status_code == 400
    assert "does not match" in bad.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == S.AWAITING_BRANCH
    ok = post_transition(engineer_client, ticket, S.AT_BRANCH, tag_number=t.tag_number,
                         serial_number=t.serial_number, documents=["business_licence", "operator_id"],
                         version=ticket.version)
    assert ok.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == S.AT_BRANCH
    printable = engineer_client.get(reverse("tickets:repair_form", args=[ticket.service_order_no])).content.decode()
    assert ticket.service_order_no in printable and t.tag_number in printable and "repairs-print" in printable


def test_it_counts_a_wrong_pickup_code_on_the_page(engineer_client, ticket_at):
    ticket = ticket_at(S.READY_FOR_PICKUP)
    wrong = "000000" if ticket.repair_request.pickup_code != "000000" else "111111"
    response = post_transition(engineer_client, ticket, S.PICKED_UP, pickup_code=wrong, version=ticket.version)
    assert response.status_code == 400
    assert "4 attempts left" in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == S.READY_FOR_PICKUP and ticket.repair_request.pickup_attempts == 1


def test_it_keeps_engineers_of_other_branches_from_acting(client, ticket_at):
    from tests.factories import BranchFactory, EngineerFactory

    ticket = ticket_at(S.AWAITING_BRANCH)
    client.force_login(EngineerFactory(branch=BranchFactory(code="BR009")))
    t = ticket.terminal
    post_transition(client, ticket, S.AT_BRANCH, tag_number=t.tag_number, serial_number=t.serial_number,
                    documents=["operator_id"])
    ticket.refresh_from_db()
    assert ticket.status == S.AWAITING_BRANCH


# --- attachments ----------------------------------------------------------------------------


def test_it_attaches_a_photo_and_serves_it_only_to_those_who_see_the_ticket(merchant_client, client, ticket_at,
                                                                          other_merchant_user):
    ticket = ticket_at(S.REPORTED)
    photo = SimpleUploadedFile("screen.png", png_bytes(), content_type="image/png")
    response = merchant_client.post(reverse("tickets:attach", args=[ticket.service_order_no]), {"file": photo})
    assert response.status_code == 302
    item = TicketAttachment.objects.get()
    assert item.content_type == "image/png"
    url = reverse("tickets:attachment", args=[item.pk])
    assert merchant_client.get(url).status_code == 200
    client.force_login(other_merchant_user)
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    ("name", "content"), [("notes.txt", b"just text, not an image"), ("fake.png", b"MZ\x90\x00 not a png")]
)
def test_it_refuses_unsupported_attachments(merchant_client, ticket_at, name, content):
    ticket = ticket_at(S.REPORTED)
    upload = SimpleUploadedFile(name, content, content_type="image/png")
    response = merchant_client.post(reverse("tickets:attach", args=[ticket.service_order_no]), {"file": upload})
    assert response.status_code == 400
    assert "not a" in response.content.decode()
    assert not TicketAttachment.objects.exists()


def test_it_refuses_oversized_attachments(merchant_client, ticket_at, settings):
    settings.MAX_UPLOAD_BYTES = 100
    ticket = ticket_at(S.REPORTED)
    upload = SimpleUploadedFile("big.png", png_bytes() + b"\0" * 200, content_type="image/png")
    response = merchant_client.post(reverse("tickets:attach", args=[ticket.service_order_no]), {"file": upload})
    assert response.status_code == 400
    assert not TicketAttachment.objects.exists()


def test_it_hides_internal_files_from_the_merchant(client, merchant_user, people, ticket_at):
    ticket = ticket_at(S.REPORTED)
    client.force_login(people["agent"])
    photo = SimpleUploadedFile("inside.png", png_bytes(), content_type="image/png")
    client.post(reverse("tickets:attach", args=[ticket.service_order_no]), {"file": photo})  # is_public unticked
    item = TicketAttachment.objects.get()
    assert not item.is_public
    client.force_login(merchant_user)
    assert client.get(reverse("tickets:attachment", args=[item.pk])).status_code == 404


def test_it_refuses_an_empty_comment(merchant_client, ticket_at):
    ticket = ticket_at(S.REPORTED)
    response = merchant_client.post(reverse("tickets:comment", args=[ticket.service_order_no]), {"body": "  "})
    assert response.status_code == 400
    assert not TicketComment.objects.exists()


# --- dashboards and navigation --------------------------------------------------------------


def test_it_shows_open_tickets_on_the_merchants_home(merchant_client, ticket_at):
    ticket = ticket_at(S.READY_FOR_PICKUP)
    body = merchant_client.get(reverse("home")).content.decode()
    assert 'data-testid="open-tickets-card"' in body and ticket.service_order_no in body


def test_it_shows_queue_counts_on_the_staff_home(client, people, ticket_at):
    ticket_at(S.AWAITING_BRANCH)
    client.force_login(people["engineer"])
    assert 'data-testid="staff-tickets-card"' in client.get(reverse("home")).content.decode()
    client.force_login(people["agent"])
    body = client.get(reverse("home")).content.decode()
    assert 'data-testid="staff-tickets-card"' in body and reverse("tickets:log_call") in body


def test_it_keeps_reviewers_out_of_ticket_actions(client, ticket_at):
    ticket = ticket_at(S.REPORTED)
    client.force_login(UserFactory(role="reviewer"))
    assert client.get(detail(ticket)).status_code == 200
    post_transition(client, ticket, S.REMOTE_DIAGNOSIS)
    ticket.refresh_from_db()
    assert ticket.status == S.REPORTED


def test_it_adds_ticket_steps_to_the_terminals_timeline(client, merchant_user, other_merchant_user, people, ticket_at):
    ticket = ticket_at(S.AWAITING_BRANCH)
    url = reverse("terminals:detail", args=[ticket.terminal.serial_number])
    client.force_login(merchant_user)
    body = client.get(url).content.decode()
    assert ticket.service_order_no in body and ticket.get_absolute_url() in body
    assert "Awaiting branch visit" in body
    client.force_login(other_merchant_user)
    assert client.get(url).status_code == 404


def test_it_suggests_call_back_windows_outside_business_hours(merchant):
    from datetime import time

    from django.utils import translation

    from repairs.forms import contact_windows

    merchant.opens_at, merchant.closes_at = time(8), time(22)
    with translation.override("en"):
        windows = [str(w) for w in contact_windows(merchant)]
    assert windows == [
        "07:00–08:00 (before opening)", "22:00–23:00 (after closing)",
    ]


def test_a_ticket_page_lists_the_terminals_other_tickets_and_the_network_tests(client, people, ticket_at):
    import re

    first = ticket_at(S.CLOSED)
    second = ticket_at(S.READY_FOR_PICKUP, terminal=first.terminal)
    alone = ticket_at(S.REPORTED)
    client.force_login(people["merchant"])

    def others(ticket):
        html = client.get(detail(ticket)).content.decode()
        card = html.split('data-testid="terminal-tickets"', 1)[1].split("</ul>", 1)[0]
        return html, card

    html, card = others(second)
    assert f'href="{detail(first)}"' in card and first.service_order_no in card and "Closed" in card
    assert second.service_order_no not in card
    assert re.findall(r'data-testid="network-test" data-passed="(\d)"', html) == ["1"]
    _html, card = others(first)
    assert second.service_order_no in card and "Ready for pickup" in card
    _html, card = others(alone)
    assert "None." in card and "SO" not in card
