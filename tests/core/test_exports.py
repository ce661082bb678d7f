"""Every CSV export of the portal goes through one writer that opens in Excel and never runs a
formula a merchant's name or a note could smuggle in (CSV injection)."""

import pytest
from django.urls import reverse

from portal.core.exports import csv_response
from tests.factories import ActiveTerminalFactory, MerchantFactory, ReviewerFactory, UserFactory
from tests.insights.factories import make_ticket


def test_it_exports_csv_for_excel_without_formulas():
    response = csv_response("x.csv", ["名称", "值"], [["=HYPERLINK(\"http://evil\")", 1], ["-2+3", None], ["鑫源", 2]])
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")
    assert 'attachment; filename="x.csv"' == response["Content-Disposition"]
    lines = body.lstrip("\ufeff").splitlines()
    assert lines[0] == "名称,值"
    assert lines[1].startswith("\"'=HYPERLINK")
    assert lines[2] == "'-2+3,"
    assert lines[3] == "鑫源,2"


def _rows(response):
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return body.decode("utf-8-sig").splitlines()


@pytest.mark.django_db
def test_it_neutralises_a_formula_in_the_terminal_export(client):
    merchant = MerchantFactory(name="=1+1")
    ActiveTerminalFactory(merchant=merchant, serial_number="SN-FORMULA-1")
    client.force_login(UserFactory(role="agent"))
    lines = _rows(client.get(reverse("terminals:export")))
    row = next(line for line in lines if line.startswith("SN-FORMULA-1,"))
    assert ",'=1+1," in row and ",=1+1," not in row


@pytest.mark.django_db
def test_it_neutralises_a_formula_in_a_report_export(client):
    merchant = MerchantFactory(name="=1+1")
    terminal = ActiveTerminalFactory(merchant=merchant, serial_number="SN-FORMULA-2")
    for day in ("2026-11-02 09:00", "2026-11-03 09:00"):  # two faults: a repeat-fault terminal
        make_ticket(terminal, created=day, events=[("closed", day, "", True)])
    client.force_login(ReviewerFactory())
    response = client.get(reverse("insights:report_csv"),
                          {"report": "repeat-terminals", "start": "2026-11-01", "end": "2026-11-30"})
    row = next(line for line in _rows(response) if line.startswith("SN-FORMULA-2,"))
    assert ",'=1+1," in row and ",=1+1," not in row
