"""What a merchant holding a printed receipt and a reviewer reading the reports see, in Chromium."""

import csv
import io

import pytest

from repairs.models import RepairRequest
from tests.factories import PASSWORD, ActiveTerminalFactory, BranchFactory, EngineerFactory, ReviewerFactory
from tests.insights.factories import make_ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_merchant_tracks_a_repair_from_the_printed_receipt(page, login):
    branch = BranchFactory(code="BR001", name="浦东支行", address="上海市浦东新区世纪大道100号", hours="9:00–17:00")
    engineer = EngineerFactory(username="eddie", branch=branch)
    terminal = ActiveTerminalFactory(tag_number="TAG-RECEIPT-1")
    ticket = make_ticket(terminal, created="2026-11-02 09:00", branch=branch,
                         events=[("remote_diagnosis", "2026-11-02 10:00"), ("awaiting_branch", "2026-11-02 11:00"),
                                 ("at_branch", "2026-11-03 09:00"), ("diagnosing", "2026-11-03 10:00")])
    RepairRequest.objects.create(ticket=ticket, branch=branch, form_number="RR-B1", checked_tag_number=terminal.tag_number,
                                 checked_serial_number=terminal.serial_number, engineer=engineer)

    # The engineer prints the repair request form: the numbers and a QR code of the tracking link.
    login("eddie", PASSWORD)
    page.goto(f"/tickets/{ticket.service_order_no}/repair-form/")
    number = page.get_by_test_id("print-so").inner_text().strip()
    tag = page.get_by_test_id("print-tag").inner_text().strip()
    assert page.get_by_test_id("tracking-qr").locator("svg").is_visible()

    # At home, without signing in, the merchant types both numbers from the receipt.
    page.context.clear_cookies()
    page.goto("/track/")
    page.get_by_label("Service-order number").fill(number)
    page.get_by_label("Tag number").fill(tag)
    page.get_by_role("button", name="Track").click()
    result = page.get_by_test_id("track-result")
    result.wait_for()
    assert page.get_by_test_id("track-status").inner_text() == "Diagnosing"
    assert "上海市浦东新区世纪大道100号" in page.get_by_test_id("track-branch").inner_text()
    assert page.get_by_test_id("track-timeline").locator("li").count() == 5
    assert page.locator(".stepper li[aria-current=step]").inner_text().strip() == "Branch repair"


def test_a_reviewer_reads_a_report_chart_and_downloads_its_csv(page, login):
    branch = BranchFactory(code="BR001", name="浦东支行")
    make_ticket(created="2026-11-02 09:00", branch=branch, sla_due="2026-11-02 18:00",
                events=[("remote_diagnosis", "2026-11-02 10:00"), ("resolved_remotely", "2026-11-02 11:00")])
    ReviewerFactory(username="rita")
    login("rita", PASSWORD)
    page.goto("/reports/?start=2026-11-01&end=2026-11-30")
    section = page.get_by_test_id("report-sla")
    chart = section.locator("svg[role=img]")
    assert chart.is_visible()
    assert "SLA compliance by branch" in chart.locator("title").first.text_content()
    assert section.locator("table").get_by_text("BR001 浦东支行").is_visible()
    with page.expect_download() as info:
        section.get_by_test_id("csv-sla").click()
    download = info.value
    assert download.suggested_filename == "sla_20261101-20261130.csv"
    with open(download.path(), encoding="utf-8-sig") as fh:
        rows = list(csv.reader(io.StringIO(fh.read())))
    assert rows[0][0] == "Branch"
    assert ["BR001 浦东支行", "1", "0", "0", "100.0"] in rows


def test_a_merchant_rates_a_finished_repair_on_the_ticket_page(page, login):
    from tests.factories import MerchantUserFactory

    user = MerchantUserFactory(username="mia")
    ticket = make_ticket(ActiveTerminalFactory(merchant=user.merchant), created="2026-11-02 09:00",
                         events=[("remote_diagnosis", "2026-11-02 10:00"), ("resolved_remotely", "2026-11-02 11:00"),
                                 ("closed", "2026-11-03 11:00")])
    login("mia", PASSWORD)
    page.goto(ticket.get_absolute_url())
    panel = page.get_by_test_id("satisfaction")
    # Each choice says what it means, and which end is good.
    assert "5 stars is the best, 1 star the worst." in panel.inner_text()
    assert panel.get_by_label("5 — Very satisfied").count() == 1
    assert panel.get_by_label("1 — Very dissatisfied").count() == 1
    assert panel.locator("label .rating-stars").first.inner_text() == "★★★★★"
    panel.get_by_label("4 — Satisfied").check()
    panel.get_by_label("Comment (optional)").fill("修得很快")
    panel.get_by_test_id("satisfaction-submit").click()
    given = page.get_by_test_id("satisfaction-given")
    given.wait_for()
    assert "4 of 5" in given.inner_text()
    assert "修得很快" in page.get_by_test_id("satisfaction").inner_text()
