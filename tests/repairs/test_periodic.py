"""The fault tickets' periodic job: SLA breach warnings."""

import itertools
from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.models import Notification
from repairs import periodic, tasks
from terminals.models import Terminal
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
