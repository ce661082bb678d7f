from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from applications.models import Application, ApplicationTerminal, DepositAccount, MonthlyVolume, add_months
from notifications.models import Notification
from terminals.models import MaintenanceRecord, Terminal
from tests.factories import (
    ActiveTerminalFactory,
    BranchFactory,
    ChannelFactory,
    EngineerFactory,
    MerchantUserFactory,
    UserFactory,
)
from tests.insights.factories import make_ticket

pytestmark = pytest.mark.django_db

HOME = "/"
AT_BRANCH = [("remote_diagnosis", "2026-11-02 10:00"), ("awaiting_branch", "2026-11-02 11:00"),
             ("at_branch", "2026-11-03 09:00"), ("diagnosing", "2026-11-03 10:00")]


def _merchant_world(merchant_user, size):
    merchant = merchant_user.merchant
    for i in range(size):
        t = ActiveTerminalFactory(merchant=merchant)
        if i % 3 == 0:
            make_ticket(t, created="2026-11-02 09:00", events=AT_BRANCH)
        MaintenanceRecord.objects.create(terminal=t, kind="cleaning", done_by=merchant_user,
                                         done_at=timezone.now() - timedelta(days=i))
        Notification.objects.create(kind="ticket.status", event_key=f"e{size}-{i}", recipient=merchant_user,
                                    channel="in_app", status="sent",
                                    context={"service_order_no": f"SO{i}", "to_status": "at_branch"})
    ActiveTerminalFactory(merchant=merchant, status=Terminal.Status.IN_STOCK)


def test_it_shows_the_merchant_its_terminals_repairs_notifications_and_care(merchant_client, merchant_user):
    _merchant_world(merchant_user, 3)
    body = merchant_client.get(HOME).content.decode()
    assert 'data-testid="terminals-by-status"' in body
    assert 'class="chart chart-bar"' in body and "<title" in body
    # the stepper of the open ticket: remote diagnosis done, branch repair current
    progress = body[body.index('data-testid="repair-progress"'):]
    assert 'class="done"' in progress and 'aria-current="step"' in progress
    assert 'data-testid="latest-notifications"' in body
    assert 'data-testid="care-reminders"' in body
    assert 'data-testid="paper-due"' in body  # no paper roll recorded yet
    # the other areas' cards are still there
    assert 'data-testid="open-tickets-card"' in body
    assert 'data-testid="applications-panel"' in body


def test_it_shows_only_the_merchants_own_data(merchant_client, merchant_user):
    other = MerchantUserFactory()
    make_ticket(ActiveTerminalFactory(merchant=other.merchant, serial_number="SN-OTHER-1"), created="2026-11-02 09:00",
                events=AT_BRANCH)
    body = merchant_client.get(HOME).content.decode()
    assert "SN-OTHER-1" not in body


def test_its_latest_notifications_are_the_users_newest_five_in_app_ones(merchant_client, merchant_user):
    from insights.dashboards import latest_notifications

    def note(i, recipient, channel="in_app", read=False):
        n = Notification.objects.create(kind="ticket.status", event_key=f"latest-{i}-{channel}-{recipient.pk}",
                                        recipient=recipient, channel=channel, status="sent",
                                        read_at=timezone.now() if read else None,
                                        context={"service_order_no": f"SO-LATEST-{i}", "to_status": "at_branch"})
        Notification.objects.filter(pk=n.pk).update(created_at=timezone.now() - timedelta(minutes=10 - i))

    for i in range(7):
        note(i, merchant_user, read=i == 6)
    note(9, merchant_user, channel="email")  # sent by e-mail: not in the inbox
    note(9, MerchantUserFactory())  # someone else's
    with CaptureQueriesContext(connection) as queries:
        latest = latest_notifications(merchant_user)
        assert all(n.recipient == merchant_user for n, _subject in latest)  # no query for the recipient
    assert len(queries) == 1
    assert [n.context["service_order_no"] for n, _subject in latest] == [f"SO-LATEST-{i}" for i in (6, 5, 4, 3, 2)]
    assert all("SO-LATEST" in subject for _n, subject in latest)
    panel = merchant_client.get(HOME).content.decode().split('data-testid="latest-notifications"')[1].split("</ul>")[0]
    assert "SO-LATEST-9" not in panel and "SO-LATEST-1" not in panel
    assert panel.count("fw-semibold") == 4  # the newest was read, the other four are not


def _applications(merchant_user, size, *, deposit):
    """`size` applications in review, and as many activated on a deposit plan with a quarter of the
    volume target reached (or, with deposit=False, on a one-off purchase: no longer shown)."""
    merchant = merchant_user.merchant
    channel = ChannelFactory(code=f"DEP{size}{int(deposit)}")
    today = timezone.localdate()
    for i in range(size):
        Application.objects.create(number=f"AQ{size}{int(deposit)}{i:04d}", merchant=merchant, channel=channel,
                                   status="under_review", created_by=merchant_user)
        app = Application.objects.create(number=f"AD{size}{int(deposit)}{i:04d}", merchant=merchant,
                                         channel=channel, status="activated", created_by=merchant_user,
                                         fee_plan="deposit" if deposit else "purchase")
        if deposit:
            terminal = ActiveTerminalFactory(merchant=merchant)
            ApplicationTerminal.objects.create(application=app, terminal=terminal, assigned_by=merchant_user)
            DepositAccount.objects.create(application=app, amount=Decimal("299"), target=Decimal("300000"),
                                          started_on=today, deadline=add_months(today, 10))
            MonthlyVolume.objects.create(terminal=terminal, month=today.replace(day=1), amount=Decimal("75000"),
                                         recorded_by=merchant_user)


def _count_home_queries(client):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(HOME)
    assert response.status_code == 200
    return len(ctx.captured_queries), response.content.decode()


def test_it_builds_the_merchant_dashboard_in_the_same_few_queries_whatever_the_data(merchant_client,
                                                                                    merchant_user):
    merchant_client.get(HOME)  # the session is cached from here on, as on any later page
    empty, _body = _count_home_queries(merchant_client)
    _merchant_world(merchant_user, 2)
    _applications(merchant_user, 1, deposit=False)
    few, _body = _count_home_queries(merchant_client)
    _merchant_world(merchant_user, 15)
    _applications(merchant_user, 8, deposit=True)
    many, body = _count_home_queries(merchant_client)
    assert empty == few == many <= 12
    assert 'aria-valuenow="25"' in body  # the deposits' progress came with the applications


def test_it_lists_applications_in_progress_and_deposits_still_counting(merchant_client, merchant_user):
    _applications(merchant_user, 1, deposit=False)
    _applications(merchant_user, 2, deposit=True)
    DepositAccount.objects.filter(application__number="AD210001").update(refunded=True)
    body = merchant_client.get(HOME).content.decode()
    panel = body.split('data-testid="applications-panel"', 1)[1].split("</ul>", 1)[0]
    assert "AQ100000" in panel and "AD210000" in panel
    assert "AD100000" not in panel  # activated, nothing left to follow
    assert "AD210001" not in panel  # deposit refunded



ITEMS = ("repairs/_merchant_dashboard_item.html", "applications/_merchant_panel_item.html",
         "insights/_merchant_care_row.html")


def test_its_cards_items_are_rendered_once_and_again_when_what_they_show_changes(merchant_client, merchant_user):
    from django.test.signals import template_rendered

    from repairs.models import FaultTicket

    _merchant_world(merchant_user, 3)
    _applications(merchant_user, 1, deposit=True)
    rendered = []

    def seen(sender, template, **kwargs):
        if template.name in ITEMS:
            rendered.append(template.name)

    def card(body, testid):
        return body.split(f'data-testid="{testid}"', 1)[1].split("</ul>", 1)[0].split("</table>", 1)[0]

    template_rendered.connect(seen)
    try:
        first = merchant_client.get(HOME).content.decode()
        # one open ticket, two applications (in review; activated, its deposit counting), four terminals
        assert sorted(rendered) == sorted([ITEMS[0]] + [ITEMS[1]] * 2 + [ITEMS[2]] * 4)
        rendered.clear()
        again = merchant_client.get(HOME).content.decode()
        assert rendered == []  # every item from the fragments
        for testid in ("repair-progress", "applications-panel", "care-reminders"):
            assert card(again, testid) == card(first, testid)

        ticket = FaultTicket.objects.get(terminal__merchant=merchant_user.merchant)
        FaultTicket.objects.filter(pk=ticket.pk).update(status="ready_for_pickup")
        Application.objects.filter(number="AQ110000").update(status="needs_info")
        terminal = Terminal.objects.filter(merchant=merchant_user.merchant).order_by("serial_number").first()
        MaintenanceRecord.objects.create(terminal=terminal, kind="paper_roll", done_by=merchant_user,
                                         done_at=timezone.now())
        changed = merchant_client.get(HOME).content.decode()
        assert sorted(rendered) == sorted(ITEMS)  # only the three items that changed
        assert '<i class="bi bi-key"></i> pickup code ready' in card(changed, "repair-progress")
        assert 'data-testid="application-status"' in card(changed, "applications-panel")
        assert card(changed, "applications-panel") != card(first, "applications-panel")
        care = card(changed, "care-reminders")
        assert care.count('data-testid="paper-due"') == card(first, "care-reminders").count('data-testid="paper-due"') - 1
    finally:
        template_rendered.disconnect(seen)


def _staff_world(size, agent, engineer):
    now = timezone.now()
    for _i in range(size):
        make_ticket(created=now, source="phone", reported_by=agent)
        make_ticket(created=now - timedelta(days=2), agent=agent, sla_due=now - timedelta(hours=1),
                    events=[("remote_diagnosis", (now - timedelta(days=1)).strftime("%Y-%m-%d %H:%M"))])
        make_ticket(created=now - timedelta(days=9), branch=engineer.branch,
                    events=[("remote_diagnosis", "2026-11-02 10:00"),
                            ("ready_for_pickup", (now - timedelta(days=5)).strftime("%Y-%m-%d %H:%M"))])
        make_ticket(created=now - timedelta(days=1), branch=engineer.branch, events=AT_BRANCH)
    channel = ChannelFactory(code="DASH")
    merchant_user = MerchantUserFactory()
    for i in range(size):
        for status, age in (("submitted", 0.5), ("under_review", 2), ("inspection", 10)):
            app = Application.objects.create(number=f"AP{size}{i}{status[:3]}", merchant=merchant_user.merchant,
                                             channel=channel, status=status, created_by=merchant_user,
                                             submitted_at=now - timedelta(days=age))
            Application.objects.filter(pk=app.pk).update(status_changed_at=now - timedelta(days=age))


def test_it_shows_the_agent_new_mine_overdue_and_todays_calls(client):
    agent = UserFactory(role="agent")
    engineer = EngineerFactory(branch=BranchFactory(code="BRX"))
    _staff_world(2, agent, engineer)
    client.force_login(agent)
    body = client.get(HOME).content.decode()
    assert 'data-testid="agent-dashboard"' in body
    assert 'data-testid="count-new">2<' in body
    assert 'data-testid="count-mine">2<' in body
    assert 'data-testid="count-overdue">2<' in body
    assert 'data-testid="count-calls">2<' in body
    assert 'data-testid="engineer-dashboard"' not in body
    assert 'data-testid="reviewer-dashboard"' not in body


def test_it_shows_the_engineer_the_branch_by_stage_and_long_waits_for_pickup(client):
    agent = UserFactory(role="agent")
    engineer = EngineerFactory(branch=BranchFactory(code="BRX"))
    _staff_world(2, agent, engineer)
    make_ticket(created="2026-11-02 09:00", branch=BranchFactory(code="BRY"), events=AT_BRANCH)  # other branch
    client.force_login(engineer)
    body = client.get(HOME).content.decode()
    assert 'data-testid="engineer-dashboard"' in body
    assert 'data-testid="waiting-count"><span class="badge text-bg-warning">2<' in body
    assert "Diagnosing: 2" in body  # the chart's description: only this branch's two
    # with N = 7 days nobody has waited that long
    body = client.get(HOME, {"pickup_days": 7}).content.decode()
    assert 'data-testid="waiting-count"><span class="badge text-bg-secondary">0<' in body


def test_it_shows_the_reviewer_the_queue_by_status_and_age(reviewer_client, agent, engineer):
    _staff_world(2, agent, engineer)
    body = reviewer_client.get(HOME).content.decode()
    section = body[body.index('data-testid="reviewer-dashboard"'):]
    assert 'class="chart chart-stacked"' in section
    assert '<span class="badge text-bg-secondary">6</span>' in section
    assert 'text-danger fw-semibold">2<' in section  # two inspections waiting more than 7 days
    assert 'data-testid="agent-dashboard"' not in body


def test_it_shows_the_admin_every_block(admin_client, agent, engineer):
    _staff_world(1, agent, engineer)
    body = admin_client.get(HOME).content.decode()
    for block in ("agent-dashboard", "reviewer-dashboard", "tickets-by-status"):
        assert f'data-testid="{block}"' in body


@pytest.mark.parametrize("role", ["agent", "engineer", "reviewer", "admin"])
@pytest.mark.parametrize("size", [1, 10])
def test_it_builds_the_staff_dashboards_in_constant_queries(client, django_assert_max_num_queries, role, size):
    agent = UserFactory(role="agent")
    engineer = EngineerFactory(branch=BranchFactory(code="BRX"))
    _staff_world(size, agent, engineer)
    user = {"agent": agent, "engineer": engineer, "reviewer": UserFactory(role="reviewer"),
            "admin": UserFactory(role="admin", is_superuser=True, is_staff=True)}[role]
    client.force_login(user)
    # 7 to 13 today depending on the role
    with django_assert_max_num_queries(16):
        response = client.get(reverse("home"))
    assert response.status_code == 200
