"""Report figures against a fixture computed by hand (the numbers in the comments)."""

import csv
import io
import re
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from applications.models import (
    Application,
    ApplicationEvent,
    ApplicationTerminal,
    DepositAccount,
    MonthlyVolume,
)
from insights import reports
from repairs.models import Satisfaction
from tests.factories import (
    ActiveTerminalFactory,
    BranchFactory,
    ChannelFactory,
    MerchantUserFactory,
    ReviewerFactory,
)
from tests.insights.factories import at, make_ticket

pytestmark = pytest.mark.django_db

NOV = reports.Period(date(2026, 11, 1), date(2026, 11, 30))


@pytest.fixture
def world(db):
    b1 = BranchFactory(code="BR001", name="浦东支行")
    b2 = BranchFactory(code="BR002", name="徐汇支行")
    x1 = ActiveTerminalFactory(model="VX520")
    x2, x4, x6, x7 = (ActiveTerminalFactory(model="P2") for _ in range(4))
    x3 = ActiveTerminalFactory(model="VX520")
    # T1 at branch 1: repaired (ready for pickup) 49 h after the report, inside its SLA.
    t1 = make_ticket(x1, created="2026-11-02 09:00", branch=b1, sla_due="2026-11-04 18:00", fault_type="printer",
                     events=[("remote_diagnosis", "2026-11-02 10:00"), ("awaiting_branch", "2026-11-02 11:00"),
                             ("at_branch", "2026-11-03 09:00"), ("diagnosing", "2026-11-03 10:00"),
                             ("repairing", "2026-11-03 12:00"), ("network_testing", "2026-11-04 09:00"),
                             ("ready_for_pickup", "2026-11-04 10:00"), ("picked_up", "2026-11-05 10:00"),
                             ("closed", "2026-11-06 10:00")])
    # T2 remote: resolved remotely after 2 h, inside its SLA.
    t2 = make_ticket(x2, created="2026-11-10 09:00", sla_due="2026-11-10 12:00", fault_type="network",
                     events=[("remote_diagnosis", "2026-11-10 09:30"), ("resolved_remotely", "2026-11-10 11:00"),
                             ("closed", "2026-11-11 11:00")])
    # T3 at branch 2: found unrepairable after its SLA (breached), never repaired.
    make_ticket(x3, created="2026-11-12 09:00", branch=b2, sla_due="2026-11-13 12:00", fault_type="display",
                events=[("remote_diagnosis", "2026-11-12 10:00"), ("awaiting_branch", "2026-11-12 12:00"),
                        ("at_branch", "2026-11-13 09:00"), ("diagnosing", "2026-11-13 10:00"),
                        ("unrepairable", "2026-11-13 14:00")])
    # T4: the same terminal as T1 again (a repeat fault), still waiting for the branch, past due.
    make_ticket(x1, created="2026-11-20 09:00", branch=b1, sla_due="2026-11-20 17:00", fault_type="printer",
                events=[("remote_diagnosis", "2026-11-20 10:00"), ("awaiting_branch", "2026-11-20 11:00")])
    # T5 cancelled after 1 h: out of the SLA figures.
    make_ticket(x4, created="2026-11-21 09:00", sla_due="2026-11-21 17:00", fault_type="other",
                events=[("cancelled", "2026-11-21 10:00")])
    # T6 reported in October: in no figure of November.
    make_ticket(ActiveTerminalFactory(model="P2"), created="2026-10-15 09:00", branch=b1, sla_due="2026-10-15 10:00",
                fault_type="printer", events=[("remote_diagnosis", "2026-10-15 09:10"),
                                               ("resolved_remotely", "2026-10-20 09:00")])
    # T7 remote, reopened: judged by its last resolution, 27 h after the report, inside the fresh SLA.
    t7 = make_ticket(x6, created="2026-11-25 09:00", sla_due="2026-11-26 17:00", fault_type="network",
                     events=[("remote_diagnosis", "2026-11-25 10:00"), ("resolved_remotely", "2026-11-25 11:00"),
                             ("remote_diagnosis", "2026-11-26 09:00"), ("resolved_remotely", "2026-11-26 12:00")])
    # T8 at branch 2, SLA clock still running (due far in the future).
    make_ticket(x7, created="2026-11-28 09:00", branch=b2, sla_due="2099-01-01 09:00", fault_type="power",
                events=[("remote_diagnosis", "2026-11-28 10:00")])

    rater = MerchantUserFactory()
    for ticket, rating, when in ((t1, 5, "2026-11-06 10:00"), (t2, 3, "2026-11-11 11:00"), (t7, 4, "2026-11-27 09:00")):
        s = Satisfaction.objects.create(ticket=ticket, rating=rating, rated_by=rater)
        Satisfaction.objects.filter(pk=s.pk).update(created_at=at(when))
    return {"b1": b1, "b2": b2}


def _app(n, channel, merchant_user, status, submitted, approved=None, activated=None):
    app = Application.objects.create(
        number=f"AP20261101-{n:04d}", merchant=merchant_user.merchant, channel=channel, status=status,
        created_by=merchant_user, submitted_at=at(submitted), fee_plan="deposit",
    )
    for to, when in (("approved", approved), ("activated", activated)):
        if when:
            ApplicationEvent.objects.create(application=app, from_status="x", to_status=to, created_at=at(when))
    return app


@pytest.fixture
def apps(db):
    bank, yinxin = ChannelFactory(code="BANK", name="本行"), ChannelFactory(code="YINXIN", name="银信")
    user = MerchantUserFactory()
    a1 = _app(1, bank, user, "activated", "2026-11-03 09:00", "2026-11-05 09:00", "2026-11-10 09:00")
    _app(2, bank, user, "rejected", "2026-11-04 09:00")
    _app(3, bank, user, "under_review", "2026-11-06 09:00")
    _app(4, yinxin, user, "approved", "2026-11-07 09:00", "2026-11-08 21:00")
    _app(5, yinxin, user, "approved", "2026-10-01 09:00", "2026-10-02 09:00")  # October: not counted
    _app(6, yinxin, user, "withdrawn", "2026-11-09 09:00")
    a7 = _app(7, bank, user, "activated", "2026-11-03 10:00")
    a8 = _app(8, bank, user, "activated", "2026-11-03 11:00")
    # Deposits: a1 reached its target (200,000 + 150,000; October is before it started), a7 did not,
    # a8 did but is refunded already.
    for app, volumes, refunded in (
        (a1, {date(2026, 10, 1): "500000", date(2026, 11, 1): "200000", date(2026, 12, 1): "150000"}, False),
        (a7, {date(2026, 11, 1): "100000"}, False),
        (a8, {date(2026, 11, 1): "400000"}, True),
    ):
        term = ActiveTerminalFactory(merchant=user.merchant, channel=bank)
        ApplicationTerminal.objects.create(application=app, terminal=term, assigned_by=user)
        DepositAccount.objects.create(application=app, amount=Decimal("1000"), target=Decimal("300000"),
                                      started_on=date(2026, 11, 10), deadline=date(2027, 9, 10), refunded=refunded)
        for month, amount in volumes.items():
            MonthlyVolume.objects.create(terminal=term, month=month, amount=Decimal(amount), recorded_by=user)
    return {"a1": a1}


def _rows(report, key):
    return {r[key]: r for r in report.rows}


def test_it_computes_the_mean_time_to_repair_overall(world, apps):
    s = reports.summary(NOV)
    assert s["reported"] == 7
    assert s["repaired"] == 3
    assert s["mttr_hours"] == 26.0  # (49 + 2 + 27) / 3
    assert s["sla_compliance"] == 60.0  # met T1 T2 T7, breached T3 T4
    assert s["remote_rate"] == 40.0  # T2 T7 of T1 T2 T3 T4 T7
    assert s["ratings"] == 3 and s["rating_avg"] == 4.0
    assert s["approval_rate"] == 80.0  # approved a1 a4 a7 a8, rejected a2


def test_it_computes_the_time_in_each_stage(world):
    rows = _rows(reports.mttr_by_stage(NOV), "code")
    assert rows["reported"]["tickets"] == 7 and rows["reported"]["mean_hours"] == 0.9  # 6.5 / 7
    assert rows["remote_diagnosis"]["tickets"] == 6 and rows["remote_diagnosis"]["mean_hours"] == 1.6  # 9.5 / 6
    assert rows["awaiting_branch"]["mean_hours"] == 21.5  # (22 + 21) / 2; T4 still waiting
    assert rows["at_branch"]["mean_hours"] == 1.0
    assert rows["diagnosing"]["mean_hours"] == 3.0
    assert rows["repairing"]["mean_hours"] == 21.0
    assert rows["network_testing"]["mean_hours"] == 1.0
    assert rows["ready_for_pickup"]["mean_hours"] == 24.0
    assert rows["resolved_remotely"]["tickets"] == 2 and rows["resolved_remotely"]["mean_hours"] == 23.0
    assert rows["unrepairable"]["mean_hours"] is None
    assert list(rows)[:3] == ["reported", "remote_diagnosis", "awaiting_branch"]


def test_it_computes_the_time_to_repair_by_branch(world):
    rows = _rows(reports.mttr_by_branch(NOV), "branch")
    assert rows["BR001 浦东支行"] == {"branch": "BR001 浦东支行", "repaired": 1, "mean_hours": 49.0}
    assert rows["Remote (no branch)"]["repaired"] == 2 and rows["Remote (no branch)"]["mean_hours"] == 14.5
    assert "BR002 徐汇支行" not in rows  # nothing repaired there


def test_it_computes_the_remote_resolution_rate_by_fault_type(world):
    report = reports.remote_resolution(NOV)
    rows = _rows(report, "fault_type")
    assert rows["Network"] == {"fault_type": "Network", "remote": 2, "branch": 0, "rate": 100.0}
    assert rows["Printer"]["rate"] == 0.0 and rows["Printer"]["branch"] == 2
    assert rows["Display"]["branch"] == 1
    assert "Other" not in rows and "Power" not in rows  # no diagnosis ended
    assert report.extra["totals"] == {"remote": 2, "branch": 3, "rate": 40.0}


def test_it_counts_tickets_by_fault_type(world):
    rows = _rows(reports.fault_types(NOV), "fault_type")
    assert {k: v["tickets"] for k, v in rows.items()} == {
        "Printer": 2, "Network": 2, "Display": 1, "Other": 1, "Power": 1,
    }
    assert rows["Printer"]["share"] == 28.6


def test_it_counts_tickets_by_model_and_flags_repeat_faults(world):
    rows = _rows(reports.terminal_models(NOV), "model")
    assert rows["VX520"] == {"model": "VX520", "tickets": 3, "terminals": 2, "repeat_faults": 1}
    assert rows["P2"] == {"model": "P2", "tickets": 4, "terminals": 4, "repeat_faults": 0}
    repeats = reports.repeat_terminals(NOV).rows
    assert len(repeats) == 1 and repeats[0]["tickets"] == 2 and repeats[0]["model"] == "VX520"


def test_it_computes_sla_compliance_by_branch(world):
    rows = _rows(reports.sla_by_branch(NOV), "branch")
    assert rows["BR001 浦东支行"] == {"branch": "BR001 浦东支行", "met": 1, "breached": 1, "running": 0,
                                     "compliance": 50.0}
    assert rows["BR002 徐汇支行"] == {"branch": "BR002 徐汇支行", "met": 0, "breached": 1, "running": 1,
                                     "compliance": 0.0}
    assert rows["Remote (no branch)"]["met"] == 2 and rows["Remote (no branch)"]["compliance"] == 100.0


def test_it_shows_satisfaction_by_branch(world):
    rows = _rows(reports.satisfaction_by_branch(NOV), "branch")
    assert rows["BR001 浦东支行"]["ratings"] == 1 and rows["BR001 浦东支行"]["mean"] == 5.0
    assert rows["BR001 浦东支行"]["r5"] == 1
    assert rows["Remote (no branch)"]["ratings"] == 2 and rows["Remote (no branch)"]["mean"] == 3.5


def test_it_computes_application_approval_rate_and_lead_time(apps):
    rows = _rows(reports.applications(NOV), "channel")
    bank = rows["BANK 本行"]
    # a1 a2 a3 a7 a8 submitted; a1 a7 a8 activated (approved or later); a2 rejected; a3 in review
    assert (bank["submitted"], bank["approved"], bank["rejected"], bank["pending"]) == (5, 3, 1, 1)
    assert bank["approval_rate"] == 75.0
    assert bank["days_to_approval"] == 2.0 and bank["days_to_activation"] == 7.0  # only a1 has events
    yinxin = rows["YINXIN 银信"]
    assert (yinxin["submitted"], yinxin["approved"], yinxin["withdrawn"], yinxin["pending"]) == (2, 1, 1, 0)
    assert yinxin["days_to_approval"] == 1.5 and yinxin["days_to_activation"] is None


def test_it_lists_deposits_due_for_refund(apps):
    report = reports.deposits_due(NOV)
    assert [r["application"] for r in report.rows] == [apps["a1"].number]
    assert report.rows[0]["volume"] == Decimal("350000")


def test_it_shows_every_report_with_a_chart_and_a_table_to_reviewers(client, world, apps):
    client.force_login(ReviewerFactory())
    response = client.get(reverse("insights:reports"), {"start": "2026-11-01", "end": "2026-11-30"})
    assert response.status_code == 200
    body = response.content.decode()
    for slug in reports.REPORTS:
        assert f'data-testid="report-{slug}"' in body
        assert f"?report={slug}&amp;" in body
    assert body.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart') == len(reports.REPORTS)
    assert "26.0 h" in body


def test_it_exports_a_report_as_csv(client, world):
    client.force_login(ReviewerFactory())
    response = client.get(reverse("insights:report_csv"),
                          {"report": "sla", "start": "2026-11-01", "end": "2026-11-30"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="sla_20261101-20261130.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["Branch", "Within SLA", "SLA breached", "Clock still running", "Compliance (%)"]
    assert ["BR001 浦东支行", "1", "1", "0", "50.0"] in rows


def test_it_refuses_an_unknown_report(client):
    client.force_login(ReviewerFactory())
    assert client.get(reverse("insights:report_csv"), {"report": "nope"}).status_code == 404


@pytest.mark.parametrize("role", ["agent", "engineer", "merchant"])
def test_it_keeps_reports_for_reviewers_and_admins(client, role):
    from tests.factories import BranchFactory as BF
    from tests.factories import UserFactory

    user = MerchantUserFactory() if role == "merchant" else UserFactory(role=role, branch=BF() if role == "engineer" else None)
    client.force_login(user)
    assert client.get(reverse("insights:reports")).status_code == 403
    assert client.get(reverse("insights:report_csv"), {"report": "sla"}).status_code == 403


def test_it_opens_the_reports_for_an_admin_with_the_last_30_days_by_default(admin_client):
    response = admin_client.get(reverse("insights:reports"))
    assert response.status_code == 200
    assert response.context["period"].days == 30


def test_it_shows_in_the_period_form_the_dates_each_reviewer_chose_though_it_is_rendered_once(client):
    client.force_login(ReviewerFactory())
    for start, end in (("2026-11-01", "2026-11-30"), ("2026-10-01", "2026-10-15")):
        body = client.get(reverse("insights:reports"), {"start": start, "end": end}).content.decode()
        assert re.search(rf'type="date" name="start" value="{start}"', body)
        assert re.search(rf'type="date" name="end" value="{end}"', body)
        assert "\x00" not in body
    today = timezone.localdate()
    blank = client.get(reverse("insights:reports")).content.decode()
    assert f'name="end" value="{today:%Y-%m-%d}"' in blank


def test_it_rejects_a_reversed_period_and_falls_back_to_the_default(client):
    client.force_login(ReviewerFactory())
    response = client.get(reverse("insights:reports"), {"start": "2026-11-30", "end": "2026-11-01"})
    assert response.status_code == 200
    assert "The start date is after the end date." in response.content.decode()


@pytest.mark.parametrize("size", [1, 12])
def test_it_computes_the_reports_in_constant_queries(client, django_assert_max_num_queries, size):
    branch = BranchFactory()
    for i in range(size):
        make_ticket(created=f"2026-11-{i + 1:02d} 09:00", branch=branch, sla_due="2026-11-30 09:00",
                    events=[("remote_diagnosis", f"2026-11-{i + 1:02d} 10:00"),
                            ("resolved_remotely", f"2026-11-{i + 1:02d} 11:00")])
    client.force_login(ReviewerFactory())
    with django_assert_max_num_queries(22):
        response = client.get(reverse("insights:reports"), {"start": "2026-11-01", "end": "2026-11-30"})
    assert response.status_code == 200


def test_a_page_whose_charts_and_tables_are_cached_does_not_build_or_read_the_report_again(
    client, world, monkeypatch
):
    client.force_login(ReviewerFactory())
    period = {"start": "2026-11-01", "end": "2026-11-30"}
    first = client.get(reverse("insights:reports"), period).content.decode()
    assert "26.0 h" in first

    def must_not_build(period):
        raise AssertionError("the report was built (or read) though its rendered HTML is cached")

    monkeypatch.setattr(reports, "build_all", must_not_build)
    again = client.get(reverse("insights:reports"), period).content.decode()
    assert "26.0 h" in again and again.count('class="chart') == first.count('class="chart')
