"""The applications' periodic job: deposit-refund reminders and deadline warnings."""

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from applications import periodic, tasks
from notifications.models import Notification
from tests.factories import ChannelFactory, MerchantUserFactory

pytestmark = pytest.mark.django_db
_n = itertools.count(1)


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
