"""Every URL of a ticket (pages and API): a ticket at branch A is a 404 to an engineer of branch B,
exactly like another merchant's ticket, and served to the engineers of branch A.

The URLs come from walking the resolver with tests/security/registry.py: a URL whose object is a
ticket, or hangs off one (its files, comments, …), is a ticket URL, so a new one is checked here
the day it is registered for the cross-merchant test.
"""

import pytest

from repairs.models import FaultTicket
from repairs.workflow import ticket_transition
from tests.factories import BranchFactory, EngineerFactory
from tests.security.registry import Owner, build_kwargs, builder_for
from tests.security.urlwalk import check_resolves, routes

pytestmark = pytest.mark.django_db

S = FaultTicket.Status
DOCS = ["account_opening_permit", "business_licence", "operator_id"]


class _Anything:
    """Stands for any object a builder reads an attribute of (no database needed to list routes)."""

    def __getattr__(self, name):
        return self


class _Probe:
    """An Owner look-alike that records which of merchant A's objects a builder asks for."""

    def __init__(self):
        self.asked = set()

    def __getattr__(self, name):
        self.asked.add(name)
        return _Anything()


def _is_ticket_route(route):
    builder = builder_for(route)
    if not builder:
        return False
    probe = _Probe()
    builder(probe)
    return any(name.startswith("ticket") for name in probe.asked)


TICKET_ROUTES = [r for r in routes() if _is_ticket_route(r)]


def at_branch(owner):
    """Merchant A's ticket sent to A's branch and taken in there by one of its engineers."""
    engineer = EngineerFactory(branch=owner.branch)
    ticket = owner.ticket
    ticket_transition(ticket=ticket, to=S.REMOTE_DIAGNOSIS, actor=owner.agent)
    ticket.refresh_from_db()
    ticket_transition(ticket=ticket, to=S.AWAITING_BRANCH, actor=owner.agent, branch=owner.branch.code)
    ticket.refresh_from_db()
    t = ticket.terminal
    ticket_transition(
        ticket=ticket, to=S.AT_BRANCH, actor=engineer,
        tag_number=t.tag_number, serial_number=t.serial_number, documents=DOCS,
    )
    ticket.refresh_from_db()
    return engineer


def _request(client, method, path):
    return client.get(path) if method == "get" else client.post(path, {})


def test_the_walk_finds_the_ticket_urls():
    names = {r.name for r in TICKET_ROUTES}
    for expected in ("tickets:detail", "tickets:repair_form", "tickets:qr", "tickets:attachment",
                     "tickets:comment", "tickets:attach", "ticket-detail", "ticket-transition"):
        assert expected in names, f"{expected} is not walked as a ticket URL"


@pytest.mark.parametrize("route", TICKET_ROUTES, ids=lambda r: r.label)
def test_it_answers_404_to_an_engineer_of_another_branch(client, route):
    owner = Owner()
    path = route.path(build_kwargs(route, owner))  # makes the ticket (and its file) first
    engineer = at_branch(owner)
    check_resolves(route, path)
    ticket = FaultTicket.objects.get(pk=owner.ticket.pk)

    client.force_login(engineer)
    method = "get"
    mine = _request(client, method, path)
    if mine.status_code == 405:
        method = "post"
        mine = _request(client, method, path)
    assert mine.status_code != 404, f"{path}: the branch's own engineer gets a 404, so this test proves nothing"
    assert mine.status_code < 500

    client.logout()
    client.force_login(EngineerFactory(branch=BranchFactory(code="SEC02")))
    theirs = _request(client, method, path)
    assert theirs.status_code == 404, (
        f"an engineer of another branch {method.upper()} {path} → {theirs.status_code}; expected 404"
    )
    after = FaultTicket.objects.get(pk=ticket.pk)
    assert (after.status, after.version) == (ticket.status, ticket.version)
    assert after.comments.count() == ticket.comments.count()
    assert after.attachments.count() == ticket.attachments.count()
