"""The terminals' periodic job: the daily care reminders."""

import itertools
from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.models import Notification
from terminals import periodic, tasks
from terminals.models import MaintenanceRecord, Terminal
from tests.factories import ChannelFactory, MerchantUserFactory, UserFactory

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
