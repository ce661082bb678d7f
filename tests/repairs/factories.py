"""Factories and helpers of the ticket tests: terminals in service, tickets driven to any state
through the real workflow (so events, terminal status and repair records are all consistent)."""


from repairs.models import FaultTicket, RepairRequest
from repairs.workflow import create_ticket, ticket_transition
from tests.factories import ActiveTerminalFactory, BranchFactory

S = FaultTicket.Status


DOCS = ["account_opening_permit", "business_licence", "operator_id"]


def fields_for(ticket, source, target):
    """Valid fields for one transition of the table."""
    t = ticket.terminal
    if target == S.AWAITING_BRANCH:
        return {"branch": "BR001"}
    if target == S.AT_BRANCH:
        return {"tag_number": t.tag_number, "serial_number": t.serial_number, "documents": DOCS}
    if source == S.DIAGNOSING and target == S.REPAIRING:
        return {"diagnosis": "board fault"}
    if target == S.NETWORK_TESTING:
        return {"work_done": "replaced the board", "parts": "board"}
    if source == S.NETWORK_TESTING and target == S.REPAIRING:
        return {"note": "handshake timeout", "test_passed": False}
    if target == S.READY_FOR_PICKUP:
        return {"test_passed": True, "note": "all fine"}
    if target == S.PICKED_UP:
        rr = RepairRequest.objects.filter(ticket=ticket).first()
        return {"pickup_code": rr.pickup_code if rr else "000000"}
    if target in (S.RESOLVED_REMOTELY, S.UNREPAIRABLE, S.CANCELLED):
        return {"note": "because"}
    return {}


# How to reach each state: (target, role) steps from `reported`.
PATHS = {
    S.REPORTED: [],
    S.REMOTE_DIAGNOSIS: [(S.REMOTE_DIAGNOSIS, "agent")],
    S.RESOLVED_REMOTELY: [(S.REMOTE_DIAGNOSIS, "agent"), (S.RESOLVED_REMOTELY, "agent")],
    S.AWAITING_BRANCH: [(S.REMOTE_DIAGNOSIS, "agent"), (S.AWAITING_BRANCH, "agent")],
}
PATHS[S.AT_BRANCH] = PATHS[S.AWAITING_BRANCH] + [(S.AT_BRANCH, "engineer")]
PATHS[S.DIAGNOSING] = PATHS[S.AT_BRANCH] + [(S.DIAGNOSING, "engineer")]
PATHS[S.REPAIRING] = PATHS[S.DIAGNOSING] + [(S.REPAIRING, "engineer")]
PATHS[S.NETWORK_TESTING] = PATHS[S.REPAIRING] + [(S.NETWORK_TESTING, "engineer")]
PATHS[S.READY_FOR_PICKUP] = PATHS[S.NETWORK_TESTING] + [(S.READY_FOR_PICKUP, "engineer")]
PATHS[S.PICKED_UP] = PATHS[S.READY_FOR_PICKUP] + [(S.PICKED_UP, "engineer")]
PATHS[S.UNREPAIRABLE] = PATHS[S.DIAGNOSING] + [(S.UNREPAIRABLE, "engineer")]
PATHS[S.REPLACEMENT] = PATHS[S.UNREPAIRABLE] + [(S.REPLACEMENT, "system")]
PATHS[S.CLOSED] = PATHS[S.RESOLVED_REMOTELY] + [(S.CLOSED, "merchant")]
PATHS[S.CANCELLED] = [(S.CANCELLED, "merchant")]


def make_ticket(people, status=S.REPORTED, *, terminal=None, **kwargs):
    """A ticket of `people.merchant_user`'s merchant driven to `status` through the workflow.

    `people` maps role → user: merchant, agent, engineer (of branch BR001).
    """
    merchant_user = people["merchant"]
    if terminal is None:
        terminal = ActiveTerminalFactory(merchant=merchant_user.merchant)
    BranchFactory(code="BR001")
    kwargs.setdefault("fault_type", FaultTicket.FaultType.PRINTER)
    kwargs.setdefault("symptoms", "No paper comes out.")
    ticket = create_ticket(terminal=terminal, actor=merchant_user, **kwargs)
    for target, role in PATHS[status]:
        ticket.refresh_from_db()
        ticket_transition(
            ticket=ticket, to=target, actor=people.get(role), **fields_for(ticket, ticket.status, target)
        )
    ticket.refresh_from_db()
    return ticket
