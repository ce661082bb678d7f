from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from portal.core.workflow import WorkflowError
from terminals import services
from terminals.models import Deregistration, MaintenanceRecord, Terminal, TerminalEvent
from tests.factories import ActiveTerminalFactory, MerchantFactory, TerminalFactory

pytestmark = pytest.mark.django_db
S = Terminal.Status


def _life(terminal, merchant, actor):
    services.issue_to_merchant(terminal=terminal, merchant=merchant, actor=actor)
    services.activate(terminal=terminal, actor=actor, tid="12345678", mid="898310058120001")


def test_it_takes_a_terminal_through_its_whole_life_writing_each_event(stock_terminal, merchant, manager):
    _life(stock_terminal, merchant, manager)
    services.mark_faulty(terminal=stock_terminal, actor=manager)
    services.mark_in_repair(terminal=stock_terminal, actor=manager)
    services.retire(terminal=stock_terminal, actor=manager, note="mainboard")
    record = services.deregister(
        terminal=stock_terminal, method="destroyed", certificate_number="XH-1", witness="Li",
        date=timezone.localdate(), actor=manager,
    )
    stock_terminal.refresh_from_db()
    assert stock_terminal.status == S.DESTROYED
    assert stock_terminal.merchant == merchant and stock_terminal.activated_on and stock_terminal.retired_on
    assert record.merchant == merchant and record.recorded_by == manager
    moves = list(
        TerminalEvent.objects.filter(terminal=stock_terminal, kind="status")
        .order_by("pk").values_list("from_status", "to_status")
    )
    assert moves == [
        ("in_stock", "pending_activation"), ("pending_activation", "active"), ("active", "faulty"),
        ("faulty", "in_repair"), ("in_repair", "retired"), ("retired", "destroyed"),
    ]


def test_it_updates_the_callers_object(stock_terminal, merchant, manager):
    services.issue_to_merchant(terminal=stock_terminal, merchant=merchant, actor=manager)
    assert stock_terminal.status == S.PENDING_ACTIVATION
    assert stock_terminal.merchant == merchant


@pytest.mark.parametrize(
    "call",
    [
        lambda t, a: services.mark_faulty(terminal=t, actor=a),
        lambda t, a: services.retire(terminal=t, actor=a),
        lambda t, a: services.activate(terminal=t, actor=a),
        lambda t, a: services.mark_working(terminal=t, actor=a),
    ],
)
def test_it_refuses_a_move_the_table_does_not_allow_and_changes_nothing(stock_terminal, manager, call):
    with pytest.raises(WorkflowError):
        call(stock_terminal, manager)
    stock_terminal.refresh_from_db()
    assert stock_terminal.status == S.IN_STOCK
    assert not TerminalEvent.objects.filter(terminal=stock_terminal, kind="status").exists()


def test_it_never_undoes_a_destruction(stock_terminal, manager, merchant):
    services.deregister(terminal=stock_terminal, method="destroyed", certificate_number="C1", witness="W",
                        date=timezone.localdate(), actor=manager)
    for call in (
        lambda: services.return_to_stock(terminal=stock_terminal, actor=manager),
        lambda: services.issue_to_merchant(terminal=stock_terminal, merchant=merchant, actor=manager),
        lambda: services.deregister(terminal=stock_terminal, method="returned", certificate_number="C2",
                                    witness="W", date=None, actor=manager),
    ):
        with pytest.raises(WorkflowError):
            call()
    assert Deregistration.objects.filter(terminal=stock_terminal).count() == 1


def test_it_refuses_to_deregister_a_terminal_in_repair(terminal, manager):
    services.mark_faulty(terminal=terminal, actor=manager)
    with pytest.raises(WorkflowError) as exc:
        services.deregister(terminal=terminal, method="returned", certificate_number="C", witness="W",
                            date=None, actor=manager)
    assert exc.value.code == "not_allowed"
    assert not Deregistration.objects.exists()


def test_it_refuses_a_deregistration_without_certificate_or_witness_or_in_the_future(terminal, manager):
    with pytest.raises(WorkflowError) as exc:
        services.deregister(terminal=terminal, method="melted", certificate_number=" ", witness="",
                            date=timezone.localdate() + timedelta(days=1), actor=manager)
    assert exc.value.code == "invalid"
    assert set(exc.value.field_errors) == {"method", "certificate_number", "witness", "date"}
    terminal.refresh_from_db()
    assert terminal.status == S.ACTIVE


def test_it_reissues_only_after_deregistration_and_return_to_stock(terminal, manager):
    newcomer = MerchantFactory()
    with pytest.raises(WorkflowError, match="belongs to one merchant"):
        services.issue_to_merchant(terminal=terminal, merchant=newcomer, actor=manager)
    services.deregister(terminal=terminal, method="returned", certificate_number="R1", witness="W",
                        date=None, actor=manager)
    with pytest.raises(WorkflowError):
        services.issue_to_merchant(terminal=terminal, merchant=newcomer, actor=manager)
    services.return_to_stock(terminal=terminal, actor=manager)
    terminal.refresh_from_db()
    assert (terminal.merchant, terminal.tid, terminal.mid, terminal.status) == (None, "", "", S.IN_STOCK)
    services.issue_to_merchant(terminal=terminal, merchant=newcomer, actor=manager)
    terminal.refresh_from_db()
    assert terminal.merchant == newcomer


def test_it_validates_tid_and_mid_on_activation(stock_terminal, merchant, manager):
    services.issue_to_merchant(terminal=stock_terminal, merchant=merchant, actor=manager)
    with pytest.raises(WorkflowError) as exc:
        services.activate(terminal=stock_terminal, actor=manager, tid="ABC", mid="12345")
    assert set(exc.value.field_errors) == {"tid", "mid"}
    stock_terminal.refresh_from_db()
    assert stock_terminal.status == S.PENDING_ACTIVATION
    services.activate(terminal=stock_terminal, actor=manager, tid="ab12cd34", mid="898310058120001")
    stock_terminal.refresh_from_db()
    assert stock_terminal.tid == "AB12CD34"


@pytest.mark.parametrize(
    "field,value",
    [("tid", "1234567"), ("tid", "1234-678"), ("mid", "89831005812000"), ("mid", "89831005812000X"),
     ("serial_number", "a b"), ("tag_number", "-x")],
)
def test_it_validates_the_identifiers_on_the_model(field, value):
    terminal = TerminalFactory.build(channel=TerminalFactory().channel, **{field: value})
    with pytest.raises(ValidationError) as exc:
        terminal.full_clean()
    assert field in exc.value.message_dict


def test_it_refuses_a_merchant_change_outside_the_services_in_model_validation(terminal):
    terminal.merchant = MerchantFactory()
    with pytest.raises(ValidationError) as exc:
        terminal.full_clean()
    assert "merchant" in exc.value.message_dict


def test_it_registers_a_terminal_with_its_first_event(channel, manager):
    t = services.register_terminal(serial_number="N7SP630001", tag_number="T-1", model="Newland SP630",
                                   manufacturer="Newland", channel=channel, actor=manager)
    assert t.status == S.IN_STOCK
    assert t.events.get().kind == TerminalEvent.Kind.CREATED
    with pytest.raises(WorkflowError):
        services.register_terminal(serial_number="N7SP630001", tag_number="T-2", model="x",
                                   manufacturer="y", channel=channel, actor=manager)


def test_it_lets_the_owner_log_maintenance_once_per_click(terminal, merchant_user):
    first = services.log_maintenance(terminal=terminal, kind="cleaning", actor=merchant_user)
    again = services.log_maintenance(terminal=terminal, kind="cleaning", actor=merchant_user)
    assert first.pk == again.pk
    services.log_maintenance(terminal=terminal, kind="paper_roll", actor=merchant_user)
    assert MaintenanceRecord.objects.filter(terminal=terminal).count() == 2


def test_it_refuses_maintenance_by_another_merchant_or_on_a_terminal_out_of_their_hands(
    terminal, other_merchant_user, merchant_user, manager
):
    with pytest.raises(WorkflowError):
        services.log_maintenance(terminal=terminal, kind="cleaning", actor=other_merchant_user)
    services.retire(terminal=terminal, actor=manager)
    with pytest.raises(WorkflowError):
        services.log_maintenance(terminal=terminal, kind="cleaning", actor=merchant_user)
    services.log_maintenance(terminal=terminal, kind="inspection", actor=manager)
    assert MaintenanceRecord.objects.filter(terminal=terminal).count() == 1


def test_it_scopes_terminals_and_their_history_to_the_merchant(terminal, merchant_user, other_merchant_user, agent):
    other = ActiveTerminalFactory(merchant=other_merchant_user.merchant)
    assert list(Terminal.objects.visible_to(merchant_user)) == [terminal]
    assert set(Terminal.objects.visible_to(agent)) == {terminal, other}
    assert not TerminalEvent.objects.visible_to(other_merchant_user).filter(terminal=terminal).exists()
