"""The state machine, table-driven: every allowed transition for every role that may make it, and
every other (state, target, role) combination refused with nothing changed."""

import pytest

from portal.core.workflow import WorkflowError
from repairs.models import FaultTicket, NetworkTest, TicketEvent
from repairs.workflow import MACHINE, TRANSITIONS, allowed_transitions, ticket_transition
from terminals.models import Terminal
from tests.factories import AdminFactory, BranchFactory, EngineerFactory, MerchantUserFactory, ReviewerFactory
from tests.repairs.factories import PATHS, fields_for

pytestmark = pytest.mark.django_db
S = FaultTicket.Status

# Every kind of actor: (name, how to build it from `people`).
ROLES = ["merchant", "other_merchant", "agent", "engineer", "other_engineer", "reviewer", "admin", "system"]


@pytest.fixture
def actors(people):
    other_branch = BranchFactory(code="BR002")
    return {
        **people,
        "other_merchant": MerchantUserFactory(username="mallory"),
        "other_engineer": EngineerFactory(username="otto", branch=other_branch),
        "reviewer": ReviewerFactory(username="rita"),
        "admin": AdminFactory(username="root"),
        "system": None,
    }


def may(spec, role):
    """The table's answer, with the ownership rules: merchant = own ticket, engineer = own branch."""
    if spec is None:
        return False
    base = {"other_merchant": "merchant", "other_engineer": "engineer"}.get(role, role)
    if role in ("other_merchant", "other_engineer"):
        return False
    return base in spec.roles


ALLOWED = [(source, spec.target, role) for spec in TRANSITIONS for source in spec.sources for role in ROLES
           if may(spec, role)]


TERMINAL_AFTER = {
    S.RESOLVED_REMOTELY: Terminal.Status.ACTIVE,
    S.AT_BRANCH: Terminal.Status.IN_REPAIR,
    S.UNREPAIRABLE: Terminal.Status.RETIRED,
    S.PICKED_UP: Terminal.Status.ACTIVE,
    S.CANCELLED: Terminal.Status.ACTIVE,
}


@pytest.mark.parametrize(("source", "target", "role"), ALLOWED, ids=[f"{s}->{t}:{r}" for s, t, r in ALLOWED])
def test_it_makes_every_allowed_transition(actors, ticket_at, source, target, role):
    ticket = ticket_at(source)
    version, events = ticket.version, ticket.events.count()
    event = ticket_transition(ticket=ticket, to=target, actor=actors[role], **fields_for(ticket, source, target))
    ticket.refresh_from_db()
    assert ticket.status == target
    assert ticket.version == version + 1
    assert ticket.events.count() == events + 1
    assert (event.from_status, event.to_status) == (source, target)
    assert event.actor == actors[role]
    if target in TERMINAL_AFTER:
        assert ticket.terminal.status == TERMINAL_AFTER[target]
    if target in FaultTicket.FINAL_STATUSES:
        assert ticket.closed_at is not None


@pytest.mark.parametrize("source", S.values)
def test_it_refuses_every_other_transition_and_changes_nothing(actors, ticket_at, source):
    ticket = ticket_at(source)
    before = (ticket.status, ticket.version, TicketEvent.objects.count(), ticket.terminal.status)
    for target in S.values:
        spec = MACHINE.transition(source, target)
        for role in ROLES:
            if may(spec, role):
                continue
            ticket.refresh_from_db()
            with pytest.raises(WorkflowError) as refused:
                ticket_transition(ticket=ticket, to=target, actor=actors[role], **fields_for(ticket, source, target))
            expected = "not_allowed" if spec is None else "forbidden"
            assert refused.value.code == expected, (source, target, role)
            assert refused.value.message
            ticket.refresh_from_db()
            after = (ticket.status, ticket.version, TicketEvent.objects.count(), ticket.terminal.status)
            assert after == before, (source, target, role)


def test_it_offers_exactly_the_transitions_of_the_table(actors, ticket_at):
    ticket = ticket_at(S.REMOTE_DIAGNOSIS)
    assert {t.target for t in allowed_transitions(ticket, actors["agent"])} == {
        S.RESOLVED_REMOTELY, S.AWAITING_BRANCH, S.CANCELLED,
    }
    assert {t.target for t in allowed_transitions(ticket, actors["merchant"])} == {S.CANCELLED}
    assert allowed_transitions(ticket, actors["other_merchant"]) == []
    assert allowed_transitions(ticket, actors["engineer"]) == []
    assert allowed_transitions(ticket, actors["reviewer"]) == []


def test_it_covers_every_path_of_design_md():
    assert set(PATHS) == set(S.values)
    pairs = [(source, t.target) for t in TRANSITIONS for source in t.sources]
    assert len(set(pairs)) == len(pairs) == len(TRANSITIONS)


def test_it_records_the_agent_when_taken(people, ticket_at):
    ticket = ticket_at(S.REMOTE_DIAGNOSIS)
    assert ticket.agent == people["agent"]
    assert ticket.agent_name == people["agent"].display_name


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({}, {"tag_number", "serial_number", "documents"}),
        ({"tag_number": "WRONG", "serial_number": "WRONG", "documents": ["business_licence"]},
         {"tag_number", "serial_number"}),
        ({"tag_number": "@tag", "serial_number": "@serial", "documents": ["passport"]}, {"documents"}),
    ],
)
def test_it_checks_tag_and_serial_at_intake(people, ticket_at, fields, errors):
    ticket = ticket_at(S.AWAITING_BRANCH)
    t = ticket.terminal
    fields = {k: (t.tag_number if v == "@tag" else t.serial_number if v == "@serial" else v) for k, v in fields.items()}
    with pytest.raises(WorkflowError) as refused:
        ticket_transition(ticket=ticket, to=S.AT_BRANCH, actor=people["engineer"], **fields)
    assert refused.value.code == "invalid"
    assert set(refused.value.field_errors) == errors
    ticket.refresh_from_db()
    assert ticket.status == S.AWAITING_BRANCH
    assert ticket.terminal.status == Terminal.Status.FAULTY


def test_it_accepts_tag_and_serial_in_any_case(people, ticket_at):
    ticket = ticket_at(S.AWAITING_BRANCH)
    t = ticket.terminal
    ticket_transition(ticket=ticket, to=S.AT_BRANCH, actor=people["engineer"], tag_number=t.tag_number.lower(),
                      serial_number=f" {t.serial_number} ", documents=["operator_id"])
    assert ticket.repair_request.documents == ["operator_id"]


def test_it_refuses_an_unknown_branch(people, ticket_at):
    ticket = ticket_at(S.REMOTE_DIAGNOSIS)
    with pytest.raises(WorkflowError) as refused:
        ticket_transition(ticket=ticket, to=S.AWAITING_BRANCH, actor=people["agent"], branch="NOPE")
    assert set(refused.value.field_errors) == {"branch"}


@pytest.mark.parametrize("target", [S.RESOLVED_REMOTELY, S.CANCELLED])
def test_it_requires_a_note_or_reason(people, ticket_at, target):
    ticket = ticket_at(S.REMOTE_DIAGNOSIS)
    with pytest.raises(WorkflowError) as refused:
        ticket_transition(ticket=ticket, to=target, actor=people["agent"], note="   ")
    assert refused.value.field_errors == {"note": [refused.value.field_errors["note"][0]]}
    ticket_transition(ticket=ticket, to=target, actor=people["agent"], reason="the merchant fixed it")
    assert ticket.events.last().note == "the merchant fixed it"


def test_it_keeps_every_network_test_and_issues_a_code_on_pass(people, ticket_at):
    ticket = ticket_at(S.NETWORK_TESTING)
    engineer = people["engineer"]
    ticket_transition(ticket=ticket, to=S.REPAIRING, actor=engineer, note="timeout")
    ticket_transition(ticket=ticket, to=S.NETWORK_TESTING, actor=engineer, work_done="antenna")
    with pytest.raises(WorkflowError):
        ticket_transition(ticket=ticket, to=S.READY_FOR_PICKUP, actor=engineer, test_passed=False)
    ticket_transition(ticket=ticket, to=S.READY_FOR_PICKUP, actor=engineer, test_passed=True, note="ok")
    tests = list(NetworkTest.objects.filter(ticket=ticket).values_list("passed", "details"))
    assert tests == [(False, "timeout"), (True, "ok")]
    ticket.refresh_from_db()
    code = ticket.repair_request.pickup_code
    assert len(code) == 6 and code.isdigit()


def test_it_counts_wrong_pickup_codes_and_locks_after_five(people, ticket_at, settings):
    ticket = ticket_at(S.READY_FOR_PICKUP)
    engineer = people["engineer"]
    code = ticket.repair_request.pickup_code
    wrong = "000000" if code != "000000" else "111111"
    for attempt in range(1, 6):
        with pytest.raises(WorkflowError) as refused:
            ticket_transition(ticket=ticket, to=S.PICKED_UP, actor=engineer, pickup_code=wrong)
        assert refused.value.code == "invalid"
        ticket.refresh_from_db()
        assert ticket.repair_request.pickup_attempts == attempt
        assert ticket.status == S.READY_FOR_PICKUP
    # Locked: even the right code is refused now.
    with pytest.raises(WorkflowError) as refused:
        ticket_transition(ticket=ticket, to=S.PICKED_UP, actor=engineer, pickup_code=code)
    assert refused.value.code == "not_allowed"
    assert not ticket.events.filter(to_status=S.PICKED_UP).exists()
    assert ticket.events.filter(is_public=False, to_status=S.READY_FOR_PICKUP).count() == 5


def test_it_unlocks_with_a_new_code(people, ticket_at):
    from repairs.workflow import reissue_pickup_code

    ticket = ticket_at(S.READY_FOR_PICKUP)
    ticket.repair_request.pickup_attempts = 5
    ticket.repair_request.save()
    old = ticket.repair_request.pickup_code
    reissue_pickup_code(ticket=ticket, actor=people["engineer"])
    ticket.refresh_from_db()
    assert ticket.repair_request.pickup_attempts == 0
    new = ticket.repair_request.pickup_code
    if new != old:
        with pytest.raises(WorkflowError):
            ticket_transition(ticket=ticket, to=S.PICKED_UP, actor=people["engineer"], pickup_code=old)
    ticket_transition(ticket=ticket, to=S.PICKED_UP, actor=people["engineer"], pickup_code=new)
    ticket.refresh_from_db()
    assert ticket.status == S.PICKED_UP
    assert ticket.repair_request.picked_up_at is not None


def test_it_refuses_a_stale_version(people, ticket_at):
    ticket = ticket_at(S.REPORTED)
    seen = ticket.version
    ticket_transition(ticket=ticket, to=S.REMOTE_DIAGNOSIS, actor=people["agent"], version=seen)
    with pytest.raises(WorkflowError) as refused:
        ticket_transition(ticket=ticket, to=S.CANCELLED, actor=people["merchant"], note="x", version=seen)
    assert refused.value.code == "stale"
    ticket.refresh_from_db()
    assert ticket.status == S.REMOTE_DIAGNOSIS


def test_it_reopens_when_still_broken(people, ticket_at):
    ticket = ticket_at(S.RESOLVED_REMOTELY)
    assert ticket.terminal.status == Terminal.Status.ACTIVE
    ticket_transition(ticket=ticket, to=S.REMOTE_DIAGNOSIS, actor=people["merchant"], note="still no paper")
    ticket.refresh_from_db()
    assert ticket.status == S.REMOTE_DIAGNOSIS
    assert ticket.terminal.status == Terminal.Status.FAULTY


def test_it_follows_the_terminal_through_a_branch_repair(people, ticket_at):
    ticket = ticket_at(S.REPORTED)
    assert ticket.terminal.status == Terminal.Status.FAULTY
    ticket = ticket_at(S.PICKED_UP)
    assert ticket.terminal.status == Terminal.Status.ACTIVE
    statuses = list(ticket.terminal.events.order_by("created_at", "pk").values_list("to_status", flat=True))
    assert statuses[-3:] == ["faulty", "in_repair", "active"]
