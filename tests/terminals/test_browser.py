import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from portal.accounts.models import User
from tests.factories import PASSWORD, ChannelFactory, ReviewerFactory, TerminalFactory
from tests.terminals.helpers import csv_bytes, stock_rows

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_it_lets_a_merchant_open_a_terminal_see_its_timeline_and_log_a_cleaning(page, login):
    call_command("seed_demo")
    User.objects.filter(username="merchant").update(language="en")
    login("merchant", "demo-pass-2026")
    page.goto("/terminals/mine/")
    page.get_by_test_id("terminal-card").filter(has_text="0820A9200101").get_by_role("link").click()
    expect(page.get_by_test_id("terminal-heading")).to_contain_text("0820A9200101")
    timeline = page.get_by_test_id("timeline")
    expect(timeline).to_contain_text("Registered")
    expect(timeline).to_contain_text("Active")
    page.get_by_test_id("log-cleaning").click()
    expect(page.get_by_role("status")).to_contain_text("Cleaning recorded")
    expect(timeline.locator("li").first).to_contain_text("Cleaning")
    expect(page.get_by_test_id("last-cleaning")).not_to_contain_text("due")


def test_it_lets_staff_import_a_csv_and_watch_it_finish_with_the_error_report(page, login, tmp_path):
    ChannelFactory(code="BANK")
    ReviewerFactory(username="rosa", language="en")
    TerminalFactory(serial_number="SN00000003", tag_number="TAG-TAKEN")
    rows = stock_rows(40, start=10) + [["SN00000003", "TAG-OTHER", "PAX A920", "PAX", "BANK", "", "", "", ""],
                                       ["SN00000099", "TAG-99", "PAX A920", "PAX", "BANK", "", "", "BADTID", ""]]
    path = tmp_path / "inventory.csv"
    path.write_bytes(csv_bytes(rows))
    login("rosa", PASSWORD)
    page.goto("/terminals/import/")
    page.set_input_files("input[type=file]", str(path))
    page.get_by_role("button", name="Import").click()
    bar = page.get_by_test_id("progress-bar")
    expect(bar).to_have_text("100%", timeout=30_000)
    expect(page.get_by_test_id("progress-text")).to_contain_text("42 rows done of 42")
    expect(page.get_by_test_id("count-created")).to_have_text("40")
    report = page.get_by_test_id("error-report")
    expect(report).to_contain_text("already registered")
    expect(report.locator("tbody tr")).to_have_count(2)
    expect(report.locator("tbody tr").first).to_contain_text(re.compile(r"^\s*42"))
