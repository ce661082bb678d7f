"""The periodic jobs of Celery beat: SLA breach warnings, maintenance reminders, deposit reminders."""

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone

from portal.celery import app as celery_app
from portal.notifications import periodic, tasks
from portal.notifications.models import Notification
from terminals.models import MaintenanceRecord, Terminal
from tests.factories import BranchFactory, ChannelFactory, EngineerFactory, MerchantUserFactory, UserFactory

pytestmark = pytest.mark.django_db
_n = itertools.count(1)


def terminal(merchant, status=Terminal.Status.ACTIVE):
    n = next(_n)
    return Terminal.objects.create(
        serial_number=f"NSN{n:07d}",
        tag_number=f"NTAG{n:06d}",
        model="P2",
        manufacturer="商米",
        channel=ChannelFactory(),
        merchant=merchant,
        status=status,
    )


def test_it_puts_every_periodic_job_on_the_beat_schedule():
    celery_app.loader.import_default_modules()
    names = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {
        "portal.notifications.tasks.requeue_stale",
        "portal.notifications.tasks.sla_breach_warnings",
        "portal.notifications.tasks.maintenance_reminders",
        "portal.notifications.tasks.deposit_reminders",
        "repairs.auto_close_due_tickets",
    } <= names
    assert names <= set(celery_app.tasks)
    assert settings.CELERY_TASK_ROUTES["portal.notifications.tasks.deliver_notification"] == {
        "queue": "deliveries"
    }


# --- SLA breach ------------------------------------------------------------------------------


def ticket(status, *, sla_due_at, agent=None, branch=None):
    from repairs.models import FaultTicket

    merchant_user = MerchantUserFactory()
    return FaultTicket.objects.create(
        service_order_no=f"SO20261124-{next(_n):04d}",
        terminal=terminal(merchant_user.merchant),
        merchant=merchant_user.merchant,
        status=status,
        fault_type="printer",
        symptoms="无法打印",
        agent=agent,
        branch=branch,
        sla_due_at=sla_due_at,
    )


def test_it_warns_the_assignee_once_per_breached_ticket():
    agent = UserFactory()
    branch = BranchFactory()
    engineer = EngineerFactory(branch=branch)
    EngineerFactory()  # another branch's engineer hears nothing
    past = timezone.now() - timedelta(hours=1)
    with_agent = ticket("remote_diagnosis", sla_due_at=past, agent=agent)
    at_branch = ticket("repairing", sla_due_at=past, agent=agent, branch=branch)
    ticket("remote_diagnosis", sla_due_at=timezone.now() + timedelta(hours=1), agent=agent)
    ticket("closed", sla_due_at=past, agent=agent)

    assert tasks.sla_breach_warnings.delay().get() == 2
    rows = Notification.objects.filter(kind="sla.breach", channel="in_app")
    assert sorted(rows.values_list("event_key", "recipient_id")) == sorted(
        [(f"sla:{with_agent.pk}", agent.pk), (f"sla:{at_branch.pk}", engineer.pk)]
    )
    assert rows.get(recipient=agent).context["service_order_no"] == with_agent.service_order_no
    assert periodic.sla_breach_warnings() == 0
    assert Notification.objects.filter(kind="sla.breach", channel="in_app").count() == 2


# --- maintenance -----------------------------------------------------------------------------


def test_it_reminds_merchants_once_per_terminal_per_day(settings):
    settings.PAPER_ROLL_DAYS = 30
    owner = MerchantUserFactory()
    colleague = MerchantUserFactory(merchant=owner.merchant, is_merchant_owner=False)
    staff = UserFactory()
    today = timezone.localdate()
    now = timezone.now()
    never_cared = terminal(owner.merchant)
    cared_today = terminal(owner.merchant)
    MaintenanceRecord.objects.create(terminal=cared_today, kind="cleaning", done_by=staff, done_at=now)
    MaintenanceRecord.objects.create(
        terminal=cared_today, kind="paper_roll", done_by=staff, done_at=now - timedelta(days=5)
    )
    paper_due = terminal(owner.merchant)
    MaintenanceRecord.objects.create(terminal=paper_due, kind="cleaning", done_by=staff, done_at=now)
    MaintenanceRecord.objects.create(
        terminal=paper_due, kind="paper_roll", done_by=staff, done_at=now - timedelta(days=31)
    )
    terminal(owner.merchant, status=Terminal.Status.IN_STOCK)

    assert tasks.maintenance_reminders.delay().get() == 2
    inbox = Notification.objects.filter(kind="maintenance.reminder", channel="in_app")
    assert sorted(set(inbox.values_list("event_key", flat=True))) == sorted(
        [f"maintenance:{never_cared.pk}:{today}", f"maintenance:{paper_due.pk}:{today}"]
    )
    assert set(inbox.values_list("recipient_id", flat=True)) == {owner.pk, colleague.pk}
    # A daily reminder stays in the app unless the user chose e-mail or SMS for it.
    assert not Notification.objects.filter(kind="maintenance.reminder").exclude(channel="in_app").exists()
    ctx = inbox.filter(event_key__startswith=f"maintenance:{paper_due.pk}:").first().context
    assert ctx["paper_roll_due"] is True and ctx["cleaning_due"] is False
    assert periodic.maintenance_reminders() == 0
    assert periodic.maintenance_reminders(today=today + timedelta(days=1)) == 3


# --- deposits --------------------------------------------------------------------------------


def deposit_account(*, deadline, eligible_on=None):
    from applications.models import Application, DepositAccount

    user = MerchantUserFactory()
    n = next(_n)
    app = Application.objects.create(
        number=f"AP20261124-{n:04d}",
        merchant=user.merchant,
        channel=ChannelFactory(),
        created_by=user,
        fee_plan="deposit",
        status="activated",
    )
    account = DepositAccount.objects.create(
        application=app,
        amount=Decimal("500"),
        target=Decimal("100000"),
        started_on=timezone.localdate() - timedelta(days=300),
        deadline=deadline,
        eligible_on=eligible_on,
    )
    return user, account


def test_it_sends_deposit_eligibility_and_deadline_warnings_once():
    pytest.importorskip("applications.workflow")
    today = timezone.localdate()
    eligible_user, eligible = deposit_account(deadline=today + timedelta(days=60), eligible_on=today)
    soon_user, soon = deposit_account(deadline=today + timedelta(days=5))
    deposit_account(deadline=today + timedelta(days=90))

    assert tasks.deposit_reminders.delay().get() == 2
    inbox = Notification.objects.filter(channel="in_app")
    assert sorted(inbox.values_list("kind", "event_key", "recipient_id")) == sorted(
        [
            ("deposit.eligible", f"deposit-eligible:{eligible.pk}", eligible_user.pk),
            ("deposit.deadline", f"deposit-deadline:{soon.pk}:7", soon_user.pk),
        ]
    )
    assert inbox.get(kind="deposit.deadline").context["application_number"] == soon.application.number
    assert periodic.deposit_reminders() == 0
