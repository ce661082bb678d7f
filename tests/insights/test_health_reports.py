"""The health reports of the reports page, against small data computed by hand: remote resolution
with and without health data, faults by error code and by firmware version."""

from datetime import date

import pytest
from django.urls import reverse

from insights import reports
from terminals import telemetry
from terminals.models import HealthDailySummary, HealthReport, TelemetrySource
from tests.factories import ActiveTerminalFactory, ReviewerFactory
from tests.insights.factories import at, make_ticket

pytestmark = pytest.mark.django_db

NOV = reports.Period(date(2026, 11, 1), date(2026, 11, 30))


def report(source, terminal, when, *, code="", firmware="3.4.0", online=True):
    errors = [{"code": code, "text": code}] if code else []
    HealthReport.objects.create(source=source, terminal=terminal, reported_at=at(when), online=online,
                                firmware_version=firmware, error_code=code, errors=errors)


@pytest.fixture
def world(db):
    source = TelemetrySource.objects.create(key="tms", name="TMS")
    h1, h2, h3 = (ActiveTerminalFactory() for _ in range(3))
    n1, n2 = ActiveTerminalFactory(), ActiveTerminalFactory()
    # Health data in the week before their tickets: h1, h2 on 3.4.0, h3 on 3.3.1.
    report(source, h1, "2026-11-09 08:00", code="PAPER_OUT")
    report(source, h1, "2026-11-09 08:15", code="PAPER_OUT")
    report(source, h2, "2026-11-09 09:00", code="NET_DOWN")
    report(source, h3, "2026-11-09 09:00", firmware="3.3.1", code="NET_DOWN")
    report(source, h3, "2026-11-09 09:15", firmware="3.3.1")
    # n2 reported long before (more than 7 days before its ticket): no health data for it.
    report(source, n2, "2026-11-01 09:00", firmware="3.3.1")
    remote = [("remote_diagnosis", "2026-11-10 10:00"), ("resolved_remotely", "2026-11-10 11:00")]
    branch = [("remote_diagnosis", "2026-11-10 10:00"), ("awaiting_branch", "2026-11-10 11:00")]
    make_ticket(h1, created="2026-11-10 09:00", events=remote)
    make_ticket(h2, created="2026-11-10 09:00", events=remote)
    make_ticket(h3, created="2026-11-10 09:00", events=branch)
    make_ticket(n1, created="2026-11-10 09:00", events=remote)
    make_ticket(n2, created="2026-11-10 09:00", events=branch)
    make_ticket(ActiveTerminalFactory(), created="2026-11-10 09:00", events=branch)
    return source


def test_remote_resolution_with_health_data_and_without(world):
    rows = {r["group"]: r for r in reports.remote_by_health(NOV).rows}
    # With: h1, h2 remote; h3 to a branch → 2 of 3. Without: n1 remote; n2 and the last to a branch.
    assert rows["With health data"] == {"group": "With health data", "tickets": 3, "remote": 2, "branch": 1,
                                        "rate": 66.7}
    assert rows["Without health data"]["remote"] == 1 and rows["Without health data"]["branch"] == 2
    assert rows["Without health data"]["rate"] == 33.3


def test_faults_by_error_code_from_the_raw_reports_and_the_daily_summaries(world):
    rows = reports.faults_by_error_code(NOV).rows
    assert [(r["code"], r["reports"], r["terminals"]) for r in rows] == [("NET_DOWN", 2, 2), ("PAPER_OUT", 2, 1)]
    assert rows[0]["title"] == "No network connection" and rows[0]["severity"] == "Serious"
    # Once the 9th is summarised (and its raw reports could go), the figures stay the same.
    telemetry.summarise_day(date(2026, 11, 9))
    telemetry.summarise_day(date(2026, 11, 1))
    assert HealthDailySummary.objects.count() == 4
    HealthReport.objects.filter(reported_at__lt=at("2026-11-10 00:00")).delete()
    again = reports.faults_by_error_code(reports.Period(date(2026, 11, 1), date(2026, 11, 30))).rows
    assert [(r["code"], r["reports"], r["terminals"]) for r in again] == [("NET_DOWN", 2, 2), ("PAPER_OUT", 2, 1)]
    firmware = {r["firmware"]: (r["terminals"], r["tickets"]) for r in reports.faults_by_firmware(
        reports.Period(date(2026, 11, 1), date(2026, 11, 30))).rows}
    assert firmware == {"3.4.0": (2, 2), "3.3.1": (2, 2)}
    health = {r["group"]: r["tickets"] for r in reports.remote_by_health(
        reports.Period(date(2026, 11, 1), date(2026, 11, 30))).rows}
    assert health == {"With health data": 3, "Without health data": 3}


def test_faults_by_firmware_version(world):
    rows = {r["firmware"]: r for r in reports.faults_by_firmware(NOV).rows}
    # 3.4.0: h1, h2 report it, 3 error reports, 2 tickets. 3.3.1: h3 and n2, 1 error report; the
    # ticket of h3 counts (n2's last firmware was reported before its ticket too: it counts).
    assert rows["3.4.0"] == {"firmware": "3.4.0", "terminals": 2, "error_reports": 3, "tickets": 2, "per_100": 100.0}
    assert rows["3.3.1"] == {"firmware": "3.3.1", "terminals": 2, "error_reports": 1, "tickets": 2, "per_100": 100.0}


def test_the_reports_page_shows_the_health_reports(client, world):
    client.force_login(ReviewerFactory())
    html = client.get(reverse("insights:reports"), {"start": "2026-11-01", "end": "2026-11-30"},
                      HTTP_ACCEPT_LANGUAGE="en").content.decode()
    for slug in ("remote-health", "error-codes", "firmware"):
        assert f'data-testid="report-{slug}"' in html
    assert "NET_DOWN" in html and "3.3.1" in html
    csv = client.get(reverse("insights:report_csv"), {"report": "remote-health", "start": "2026-11-01",
                                                      "end": "2026-11-30"})
    assert csv.status_code == 200 and "66.7" in csv.content.decode()


@pytest.mark.parametrize("size", [1, 12])
def test_the_health_reports_cost_the_same_queries_at_any_size(size, django_assert_max_num_queries):
    source = TelemetrySource.objects.create(key="tms", name="TMS")
    for i in range(size):
        terminal = ActiveTerminalFactory()
        report(source, terminal, f"2026-11-{i + 1:02d} 08:00", code="NET_DOWN", firmware=f"3.{i % 3}.0")
        make_ticket(terminal, created=f"2026-11-{i + 1:02d} 09:00",
                    events=[("remote_diagnosis", f"2026-11-{i + 1:02d} 10:00")])
    telemetry.summarise_day(date(2026, 11, 1))
    period = reports.Period(date(2026, 11, 1), date(2026, 11, 30))
    with django_assert_max_num_queries(8) as captured:
        reports.remote_by_health(period)
        reports.faults_by_error_code(period)
        reports.faults_by_firmware(period)
    assert len(captured.captured_queries) == 8  # 1 tickets, 4 error codes, 3 firmware
