"""The applications' job of Celery beat: deposit-refund reminders (thin task in tasks.py).

`workflow.record_volume` already notifies when an account becomes eligible. This daily job reminds
merchants of refunds they have not collected yet (the same event key as that notice, so nobody
hears it twice) and warns when the deadline is DEPOSIT_WARNING_DAYS away (e.g. 30 and 7 days: one
warning per account per threshold).
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone

from applications.models import DepositAccount
from applications.workflow import deposit_progress
from notifications.models import Notification
from notifications.services import notify
from portal.accounts.models import User


def _accounts(**filters):
    users = User.objects.filter(is_active=True)
    return (
        DepositAccount.objects.filter(refunded=False, **filters)
        .select_related("application__merchant")
        .prefetch_related(Prefetch("application__merchant__users", queryset=users, to_attr="active_users"))
        .order_by("pk")
    )


def _send(account, *, kind, key, extra):
    app = account.application
    with transaction.atomic():
        return notify(
            kind=kind,
            event_key=key,
            recipients=app.merchant.active_users,
            context={
                "application_number": app.number,
                "amount": str(account.amount),
                "target": str(account.target),
                "deadline": account.deadline.isoformat(),
                **extra,
            },
            url=app.get_absolute_url(),
        )


def deposit_reminders(today=None):
    """Deposit-refund eligibility reminders and deadline warnings; returns how many were sent."""
    today = today or timezone.localdate()
    count = 0
    eligible = list(_accounts(eligible_on__isnull=False))
    told = set(
        Notification.objects.filter(
            kind="deposit.eligible", event_key__in=[f"deposit-eligible:{a.pk}" for a in eligible]
        ).values_list("event_key", flat=True)
    )
    for account in eligible:
        key = f"deposit-eligible:{account.pk}"
        if key not in told:
            count += bool(_send(account, kind="deposit.eligible", key=key, extra={}))

    horizon = today + timedelta(days=max(settings.DEPOSIT_WARNING_DAYS))
    for account in _accounts(eligible_on__isnull=True, deadline__gte=today, deadline__lte=horizon):
        days_left = (account.deadline - today).days
        threshold = min(d for d in settings.DEPOSIT_WARNING_DAYS if d >= days_left)
        progress = deposit_progress(account)
        if progress["eligible"]:
            continue
        count += bool(
            _send(
                account,
                kind="deposit.deadline",
                key=f"deposit-deadline:{account.pk}:{threshold}",
                extra={"volume": str(progress["total"]), "days_left": days_left},
            )
        )
    return count
