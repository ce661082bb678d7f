"""Deposit-refund eligibility and deadline warnings (the applications area owns the deposits).

`applications.DepositAccount` (amount, target, deadline, eligible_on, refunded) is kept by
`applications.workflow.record_volume`, which already notifies when an account becomes eligible.
This daily job reminds merchants of refunds they have not collected yet (the same event key as
that notice, so nobody hears it twice) and warns when the deadline is DEPOSIT_WARNING_DAYS away
(e.g. 30 and 7 days: one warning per account per threshold).
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Prefetch

from portal.notifications.models import Notification
from portal.notifications.services import notify

log = logging.getLogger(__name__)


def _models():
    from django.apps import apps

    try:
        return apps.get_model("applications.DepositAccount")
    except LookupError:
        return None


def _accounts(DepositAccount, **filters):
    from django.contrib.auth import get_user_model

    users = get_user_model().objects.filter(is_active=True)
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
            url=app.get_absolute_url() if hasattr(app, "get_absolute_url") else "",
        )


def run(today):
    DepositAccount = _models()
    if DepositAccount is None:
        log.info("deposit_reminders: applications.DepositAccount does not exist yet")
        return 0
    count = 0

    eligible = list(_accounts(DepositAccount, eligible_on__isnull=False))
    told = set(
        Notification.objects.filter(
            kind="deposit.eligible", event_key__in=[f"deposit-eligible:{a.pk}" for a in eligible]
        ).values_list("event_key", flat=True)
    )
    for account in eligible:
        key = f"deposit-eligible:{account.pk}"
        if key not in told:
            count += bool(_send(account, kind="deposit.eligible", key=key, extra={}))

    from applications.workflow import deposit_progress

    horizon = today + timedelta(days=max(settings.DEPOSIT_WARNING_DAYS))
    for account in _accounts(
        DepositAccount, eligible_on__isnull=True, deadline__gte=today, deadline__lte=horizon
    ):
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
