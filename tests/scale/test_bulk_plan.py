"""The bulk loader plans its histories from the workflows' own tables: every ticket and application
step is one the workflow has for the actor's role, and the terminal moves as the step's effect says."""

import pytest

from bench.bulk import BulkDataError, Plan
from repairs.workflow import MACHINE, TERMINAL_TARGET

BASE = dict(branch=0, channel=0, user=0, merchant=0, terminal=0, uscc=10**6, app_contract=0)


def plan(scale=0.002):
    p = Plan(scale=scale, seed=11, now=1_790_000_000, log=lambda *args: None)
    p.build(dict(BASE))
    return p


def test_a_step_the_workflow_lacks_or_a_role_it_refuses_stops_the_plan():
    p = Plan(scale=0.001, seed=1, now=1_790_000_000, log=lambda *args: None)
    p.roles.update({1: "merchant", 2: "engineer", 3: "agent"})
    with pytest.raises(BulkDataError, match="reported -> picked_up"):
        p.workflow_step(MACHINE, "reported", "picked_up", 2)
    with pytest.raises(BulkDataError, match="as merchant"):
        p.workflow_step(MACHINE, "remote_diagnosis", "resolved_remotely", 1)
    assert p.workflow_step(MACHINE, "remote_diagnosis", "resolved_remotely", 3).effect == "mark_working"
    assert p.workflow_step(MACHINE, "picked_up", "closed", None).target == "closed"  # the auto-close job


def test_every_planned_ticket_step_is_in_the_table_and_moves_the_terminal_as_its_effect_says():
    p = plan()
    assert len(p.tickets) > 100
    steps = 0
    for ticket in p.tickets:
        for (_, frm, to, actor, _, _) in ticket.events[1:]:
            transition = MACHINE.transition(frm, to)
            assert transition is not None, (frm, to)
            assert (p.roles[actor] if actor else "system") in transition.roles
            steps += 1
    assert steps > 3 * len(p.tickets)
    # A terminal's status moves are the effects of its tickets' steps (or its applications').
    effects = {(TERMINAL_TARGET[t.effect]) for t in MACHINE.transitions if t.effect}
    moved = {mv[3] for term in p.terminals for mv in term.moves if mv[5] == "#"}
    assert moved <= effects | {"faulty"}
