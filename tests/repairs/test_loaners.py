"""Loaner terminals: lent at intake, one per ticket, one merchant at a time, back before pickup."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone, translation

from notifications import delivery
from notifications.models import Notification
from portal.core.workflow import WorkflowError
from repairs import loans
from repairs.models import FaultTicket, Loan
from repairs.workflow import ticket_transition
from terminals import loaners as pool
from terminals.models import MaintenanceRecord, Terminal
from terminals.services import issue_to_merchant
from tests.conftest import requires_postgres
from tests.factories import AdminFactory, EngineerFactory, MerchantUserFactory, TerminalFactory
from tests.races import run_in_threads
from tests.repairs.factories import fields_for, make_ticket

S = FaultTicket.Status
L = Terminal.LoanerState


def make_loaner(branch, actor=None, **kwargs):
    loaner = TerminalFactory(**kwargs)
    pool.add_to_pool(terminal=loaner, branch=branch, actor=actor or AdminFactory())
    return loaner


def lend(ticket, engineer, loaner, **extra):
    return loans.lend_loaner(
        ticket=ticket, actor=engineer, serial_number=loaner.serial_number, tag_number=loaner.tag_number, **extra
    )


def give_back(ticket, engineer, loaner, outcome="returned", **extra):
    return loans.return_loaner(
        ticket=ticket, actor=engineer, outcome=outcome, serial_number=loaner.serial_number,
        tag_number=loaner.tag_number, **extra,
    )


@pytest.fixture(autouse=True)
def english():
    # Messages are asserted in English (the portal's default language is Chinese).
    with translation.override("en"):
        yield


@pytest.fixture
def loaner(branch):
    return make_loaner(branch)


@pytest.mark.django_db
def test_it_lends_a_pooled_loaner_at_intake_and_binds_it_to_the_merchant(people, ticket_at, engineer, loaner):
    ticket = ticket_at(S.AT_BRANCH)
    loan = lend(ticket, engineer, loaner, tid="L1234567", mid="898310000009999")
    loaner.refresh_from_db()
    assert loaner.loaner_state == L.ON_LOAN
    assert loaner.loaned_to == ticket.merchant
    assert (loan.serial_number, loan.tag_number, loan.tid, loan.mid) == (
        loaner.serial_number, loaner.tag_number, "L1234567", "898310000009999"
    )
    told = Notification.objects.filter(kind="loaner.lent", recipient=people["merchant"]).first()
    with translation.override("en"):
        english, chinese = delivery.render_subject(told, "en"), delivery.render_subject(told, "zh-hans")
    assert english == f"Loaner terminal {loaner.serial_number} lent for ticket {ticket.service_order_no}"
    assert chinese == f"因工单 {ticket.service_order_no} 借出备用机 {loaner.serial_number}"
    [notice] = loans.merchant_notices(people["merchant"])
    assert notice.text == f"On loan: {loaner.serial_number} — return it at pickup."


@pytest.mark.django_db
def test_it_checks_the_loaners_tag_and_refuses_a_loaner_of_another_branch(ticket_at, engineer, loaner):
    ticket = ticket_at(S.AT_BRANCH)
    with pytest.raises(WorkflowError) as wrong_tag:
        loans.lend_loaner(ticket=ticket, actor=engineer, serial_number=loaner.serial_number, tag_number="TAG-NOPE")
    assert "tag_number" in wrong_tag.value.field_errors
    elsewhere = make_loaner(EngineerFactory().branch)
    with pytest.raises(WorkflowError) as other_pool:
        lend(ticket, engineer, elsewhere)
    assert "serial_number" in other_pool.value.field_errors
    assert not Loan.objects.exists()
    loaner.refresh_from_db()
    assert loaner.loaner_state == L.AVAILABLE


@pytest.mark.django_db
def test_it_lends_only_at_intake_and_only_by_the_branchs_engineers(ticket_at, loaner):
    ticket = ticket_at(S.DIAGNOSING)
    engineer = EngineerFactory(branch=ticket.branch)
    with pytest.raises(WorkflowError) as late:
        lend(ticket, engineer, loaner)
    assert late.value.code == "not_allowed"
    at_branch = ticket_at(S.AT_BRANCH)
    with pytest.raises(WorkflowError) as stranger:
        lend(at_branch, EngineerFactory(), loaner)
    assert stranger.value.code == "forbidden"
    assert not Loan.objects.exists()


@pytest.mark.django_db
def test_it_allows_one_loaner_per_ticket(ticket_at, engineer, loaner, branch):
    ticket = ticket_at(S.AT_BRANCH)
    lend(ticket, engineer, loaner)
    second = make_loaner(branch)
    with pytest.raises(WorkflowError) as refused:
        lend(ticket, engineer, second)
    assert "one loaner per ticket" in refused.value.message
    second.refresh_from_db()
    assert second.loaner_state == L.AVAILABLE
    assert Loan.objects.filter(ticket=ticket).count() == 1


@pytest.mark.django_db
def test_it_never_lends_a_loaner_to_two_merchants_at_once(people, ticket_at, engineer, loaner):
    first = ticket_at(S.AT_BRANCH)
    lend(first, engineer, loaner)
    other = MerchantUserFactory()
    second = make_ticket({**people, "merchant": other}, S.AT_BRANCH)
    with pytest.raises(WorkflowError) as refused:
        lend(second, engineer, loaner)
    assert "loaner" in refused.value.field_errors
    loaner.refresh_from_db()
    assert loaner.loaned_to == first.merchant
    assert not loans.merchant_notices(other)


@pytest.mark.django_db
def test_it_refuses_to_issue_a_loaner_to_a_merchant(loaner, reviewer, merchant):
    with pytest.raises(WorkflowError):
        issue_to_merchant(terminal=loaner, merchant=merchant, actor=reviewer)
    loaner.refresh_from_db()
    assert (loaner.status, loaner.merchant_id) == (Terminal.Status.IN_STOCK, None)


@pytest.mark.django_db
def test_it_refuses_pickup_while_the_loaner_is_out_and_changes_nothing(ticket_at, engineer, loaner):
    ticket = ticket_at(S.AT_BRANCH)
    lend(ticket, engineer, loaner)
    for target in (S.DIAGNOSING, S.REPAIRING, S.NETWORK_TESTING, S.READY_FOR_PICKUP):
        ticket.refresh_from_db()
        ticket_transition(ticket=ticket, to=target, actor=engineer, **fields_for(ticket, ticket.status, target))
    ticket.refresh_from_db()
    version = ticket.version
    with pytest.raises(WorkflowError) as refused:
        ticket_transition(ticket=ticket, to=S.PICKED_UP, actor=engineer, **fields_for(ticket, ticket.status, S.PICKED_UP))
    assert refused.value.code == "invalid"
    assert "loaner" in refused.value.field_errors
    ticket.refresh_from_db()
    assert (ticket.status, ticket.version) == (S.READY_FOR_PICKUP, version)
    assert ticket.repair_request.pickup_attempts == 0

    give_back(ticket, engineer, loaner)
    ticket_transition(ticket=ticket, to=S.PICKED_UP, actor=engineer, **fields_for(ticket, ticket.status, S.PICKED_UP))
    ticket.refresh_from_db()
    assert ticket.status == S.PICKED_UP


@pytest.mark.django_db
def test_it_checks_the_returned_loaner_and_inspects_it_back_into_the_pool(people, ticket_at, engineer, loaner):
    ticket = ticket_at(S.AT_BRANCH)
    lend(ticket, engineer, loaner)
    with pytest.raises(WorkflowError) as wrong:
        loans.return_loaner(ticket=ticket, actor=engineer, serial_number="SN-OTHER", tag_number=loaner.tag_number)
    assert "serial_number" in wrong.value.field_errors
    assert Loan.objects.get().is_out

    give_back(ticket, engineer, loaner)
    loaner.refresh_from_db()
    assert (loaner.loaner_state, loaner.loaned_to) == (L.INSPECTION, None)
    assert Notification.objects.filter(kind="loaner.returned", recipient=people["merchant"]).exists()
    assert not loans.merchant_notices(people["merchant"])
    with pytest.raises(WorkflowError) as no_note:
        pool.back_to_pool(loaner=loaner, actor=engineer, note="")
    assert "note" in no_note.value.field_errors
    pool.back_to_pool(loaner=loaner, actor=engineer, note="Cleaned, test payment fine")
    loaner.refresh_from_db()
    assert loaner.loaner_state == L.AVAILABLE
    assert MaintenanceRecord.objects.filter(terminal=loaner, kind="inspection").count() == 1


@pytest.mark.django_db
def test_it_records_a_missing_loaner_with_a_reason_and_lets_the_pickup_go_ahead(ticket_at, engineer, loaner):
    ticket = ticket_at(S.AT_BRANCH)
    lend(ticket, engineer, loaner)
    with pytest.raises(WorkflowError):
        loans.return_loaner(ticket=ticket, actor=engineer, outcome="missing")
    loans.return_loaner(ticket=ticket, actor=engineer, outcome="missing", note="Merchant lost it")
    loaner.refresh_from_db()
    assert loaner.loaner_state == L.MISSING
    stats = loans.utilisation(engineer)
    assert (stats["out_now"], stats["missing"], stats["loans"]) == (0, 1, 1)


@pytest.mark.django_db
def test_it_keeps_the_loaner_with_an_unrepairable_ticket_until_the_replacement(people, ticket_at, engineer, loaner):
    ticket = ticket_at(S.AT_BRANCH)
    lend(ticket, engineer, loaner)
    ticket_transition(ticket=ticket, to=S.DIAGNOSING, actor=engineer)
    ticket_transition(ticket=ticket, to=S.UNREPAIRABLE, actor=engineer, note="board burnt")
    [notice] = loans.merchant_notices(people["merchant"])
    assert "until your replacement terminal is activated" in notice.text
    FaultTicket.objects.filter(pk=ticket.pk).update(status=S.CLOSED)
    [notice] = loans.merchant_notices(people["merchant"])
    assert "return it to the branch now" in notice.text


@pytest.mark.django_db
@override_settings(LOANER_REMINDER_DAYS=3)
def test_it_reminds_merchant_and_branch_once_of_a_loaner_out_too_long(people, ticket_at, engineer, loaner):
    ticket = ticket_at(S.AT_BRANCH)
    loan = lend(ticket, engineer, loaner)
    assert loans.loaner_reminders() == 0
    Loan.objects.filter(pk=loan.pk).update(lent_at=timezone.now() - timedelta(days=4))
    assert loans.loaner_reminders() == 1
    assert loans.loaner_reminders() == 0
    told = set(Notification.objects.filter(kind="loaner.reminder").values_list("recipient__username", flat=True))
    assert {people["merchant"].username, engineer.username} <= told


@pytest.mark.django_db
def test_it_shows_the_loan_on_both_terminals_timelines(people, ticket_at, engineer, loaner, admin_user):
    from terminals.selectors import terminal_timeline

    ticket = ticket_at(S.AT_BRANCH)
    lend(ticket, engineer, loaner)
    for terminal in (ticket.terminal, loaner):
        titles = [e.title for e in terminal_timeline(terminal, admin_user)]
        assert any(loaner.serial_number in t and ticket.service_order_no in t for t in titles), titles
    merchant_titles = [e.title for e in terminal_timeline(ticket.terminal, people["merchant"])]
    assert any(loaner.serial_number in t for t in merchant_titles)


@requires_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_lets_one_of_two_engineers_lend_the_last_loaner_on_postgres(people, branch, engineer):
    last = make_loaner(branch)
    second_engineer = EngineerFactory(branch=branch)
    tickets = [make_ticket(people, S.AT_BRANCH), make_ticket(
        {**people, "merchant": MerchantUserFactory()}, S.AT_BRANCH,
        terminal=None,
    )]
    results = run_in_threads([
        lambda: lend(FaultTicket.objects.get(pk=tickets[0].pk), engineer, last),
        lambda: lend(FaultTicket.objects.get(pk=tickets[1].pk), second_engineer, last),
    ])
    assert sorted(kind for kind, _ in results) == ["error", "ok"], results
    error = next(value for kind, value in results if kind == "error")
    assert isinstance(error, WorkflowError) and "loaner" in error.field_errors
    assert Loan.objects.filter(loaner=last, outcome="out").count() == 1
    last.refresh_from_db()
    assert last.loaner_state == L.ON_LOAN



@pytest.mark.django_db
def test_it_refuses_to_import_a_loaner_on_loan_for_a_merchant(people, ticket_at, engineer, loaner, reviewer):
    from terminals import services
    from terminals.imports import run_import_job
    from tests.terminals.helpers import csv_bytes, upload

    ticket = ticket_at(S.AT_BRANCH)
    lend(ticket, engineer, loaner)
    row = [loaner.serial_number, loaner.tag_number, loaner.model, loaner.manufacturer, loaner.channel.code,
           ticket.merchant.credit_code, "", "", ""]
    job = services.create_import_job(uploaded=upload(csv_bytes([row])), file_format="csv", actor=reviewer)
    job = run_import_job(job.pk)
    assert (job.created_count, job.error_count) == (0, 1)
    assert "is a loaner of a branch pool" in job.errors[0]["reason"]
    loaner.refresh_from_db()
    assert (loaner.merchant_id, loaner.loaned_to_id) == (None, ticket.merchant_id)
