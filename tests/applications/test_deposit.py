"""Deposit plan: progress toward the refund target from monthly card volumes, eligibility, expiry."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from applications import selectors, workflow
from applications.models import DepositAccount, MonthlyVolume, add_months
from notifications.models import Notification
from portal.core.workflow import WorkflowError

pytestmark = pytest.mark.django_db


@pytest.fixture
def deposit_app(make_app):
    return make_app("activated", fee_plan="deposit", quantity=2)


def _record(app, reviewer, month, amount, index=0):
    terminal = app.terminals.order_by("serial_number")[index]
    return workflow.record_volume(terminal=terminal, month=month, amount=Decimal(amount), actor=reviewer)


def test_it_opens_the_deposit_account_at_activation_with_a_ten_month_deadline(deposit_app):
    account = deposit_app.deposit
    assert account.amount == Decimal("299.00") and account.target == Decimal("300000.00")
    assert account.started_on == deposit_app.activated_on
    assert account.deadline == add_months(deposit_app.activated_on, 10)
    assert not account.refunded and account.eligible_on is None


def test_it_adds_up_the_volumes_of_every_terminal_toward_the_target(deposit_app, reviewer):
    DepositAccount.objects.filter(pk=deposit_app.deposit.pk).update(started_on=date(2026, 1, 15),
                                                                    deadline=date(2026, 11, 15))
    _record(deposit_app, reviewer, date(2026, 1, 1), "60000", 0)
    _record(deposit_app, reviewer, date(2026, 2, 1), "40000", 0)
    _record(deposit_app, reviewer, date(2026, 2, 1), "50000", 1)
    # Before activation and after the deadline: not counted.
    _record(deposit_app, reviewer, date(2025, 12, 1), "99999", 1)
    account = DepositAccount.objects.get(pk=deposit_app.deposit.pk)
    progress = workflow.deposit_progress(account)
    assert progress["total"] == Decimal("150000.00")
    assert progress["percent"] == 50 and progress["remaining"] == Decimal("150000.00")
    assert not progress["eligible"]


def test_it_corrects_a_month_instead_of_adding_it_twice(deposit_app, reviewer):
    _record(deposit_app, reviewer, deposit_app.activated_on, "1000")
    _record(deposit_app, reviewer, deposit_app.activated_on, "2000")
    assert MonthlyVolume.objects.count() == 1
    assert workflow.deposit_progress(deposit_app.deposit)["total"] == Decimal("2000.00")


def test_it_flags_eligibility_when_the_target_is_reached_and_tells_the_merchant(deposit_app, reviewer,
                                                                               merchant_user):
    _record(deposit_app, reviewer, deposit_app.activated_on, "299999.99", 0)
    assert DepositAccount.objects.get(pk=deposit_app.deposit.pk).eligible_on is None
    _record(deposit_app, reviewer, deposit_app.activated_on, "0.01", 1)
    account = DepositAccount.objects.get(pk=deposit_app.deposit.pk)
    assert account.eligible_on is not None
    progress = workflow.deposit_progress(account)
    assert progress["eligible"] and progress["percent"] == 100 and not progress["expired"]
    assert Notification.objects.filter(kind="deposit.eligible", recipient=merchant_user).exists()


def test_it_marks_the_deposit_expired_when_the_deadline_passes_first(deposit_app, reviewer):
    DepositAccount.objects.filter(pk=deposit_app.deposit.pk).update(started_on=date(2025, 1, 10),
                                                                    deadline=date(2025, 11, 10))
    _record(deposit_app, reviewer, date(2025, 3, 1), "100000")
    _record(deposit_app, reviewer, date(2025, 12, 1), "250000")  # too late: after the deadline
    progress = workflow.deposit_progress(DepositAccount.objects.get(pk=deposit_app.deposit.pk))
    assert progress["expired"] and not progress["eligible"] and progress["percent"] == 33


def test_it_shows_the_progress_bar_to_the_merchant(deposit_app, reviewer, merchant_client):
    _record(deposit_app, reviewer, deposit_app.activated_on, "75000")
    page = merchant_client.get(reverse("applications:detail", args=[deposit_app.number])).content.decode()
    assert 'aria-valuenow="25"' in page
    home = merchant_client.get(reverse("home")).content.decode()
    assert deposit_app.number in home and 'aria-valuenow="25"' in home


def test_it_lets_staff_record_volumes_on_the_page(deposit_app, reviewer_client):
    serial = deposit_app.terminals.first().serial_number
    month = deposit_app.activated_on.strftime("%Y-%m")
    response = reviewer_client.post(reverse("applications:volume", args=[deposit_app.number]),
                                    {"terminal": serial, "month": month, "amount": "1234.50"})
    assert response.status_code == 302
    assert MonthlyVolume.objects.get().amount == Decimal("1234.50")


def test_only_staff_record_volumes(deposit_app, merchant_user, merchant_client):
    with pytest.raises(WorkflowError) as exc:
        _record(deposit_app, merchant_user, deposit_app.activated_on, "1")
    assert exc.value.code == "forbidden"
    response = merchant_client.post(reverse("applications:volume", args=[deposit_app.number]), {})
    assert response.status_code == 403


def test_it_computes_many_progress_bars_in_one_query(make_app, reviewer, django_assert_num_queries):
    apps = [make_app("activated", fee_plan="deposit") for _ in range(3)]
    for i, app in enumerate(apps):
        _record(app, reviewer, app.activated_on, str(30000 * (i + 1)))
    with django_assert_num_queries(1):  # the applications and their counted volumes together
        rows = list(selectors.with_deposit_totals(selectors.applications_for(reviewer)))
        progress = [selectors.deposit_progress_of(a) for a in rows]
    assert sorted(p["percent"] for p in progress) == [10, 20, 30]


def test_the_reviewer_records_the_refund_once_the_target_is_reached(deposit_app, reviewer, merchant_user, client):
    url = reverse("applications:refund", args=[deposit_app.number])
    client.force_login(reviewer)
    client.post(url)
    assert not DepositAccount.objects.get(pk=deposit_app.deposit.pk).refunded  # not eligible yet
    _record(deposit_app, reviewer, deposit_app.activated_on, "300000")
    client.force_login(merchant_user)
    assert client.post(url).status_code == 403
    client.force_login(reviewer)
    client.post(url)
    account = DepositAccount.objects.get(pk=deposit_app.deposit.pk)
    assert account.refunded and account.refunded_at is not None
    with pytest.raises(WorkflowError):
        workflow.refund_deposit(application=deposit_app, actor=reviewer)
