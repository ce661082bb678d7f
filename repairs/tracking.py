"""Public tracking: a service-order number plus the terminal's tag number → the public timeline.

The result is a plain dataclass built from an allow-list of fields, so the page cannot reach a
name, a phone number, a note, a symptom or the pickup code even by mistake.
"""

from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlencode

from django.db.models import OuterRef, Subquery
from django.urls import reverse

from portal.core.querysets import built_once
from repairs.stages import ticket_steps


@dataclass(frozen=True)
class PublicBranch:
    name: str
    address: str
    hours: str


@dataclass(frozen=True)
class PublicEvent:
    status: str
    label: str
    at: datetime


@dataclass(frozen=True)
class PublicTicket:
    service_order_no: str
    status: str
    status_label: str
    reported_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    branch: PublicBranch | None
    steps: list = field(default_factory=list)
    events: list = field(default_factory=list)
    dropoff_at: datetime | None = None


def normalise_order_no(value):
    return "".join((value or "").split()).upper()[:20]


def normalise_tag(value):
    return "".join((value or "").split())[:40]


@built_once
def _public_tickets():
    """What the public page shows of a ticket, and its booked drop-off in the same query (a ticket
    has at most one booked)."""
    from repairs.models import DropoffBooking, FaultTicket

    booked = DropoffBooking.objects.filter(ticket=OuterRef("pk"), status=DropoffBooking.Status.BOOKED)
    return (
        FaultTicket.objects.select_related("branch", "terminal")
        .only(
            "pk", "service_order_no", "status", "created_at", "status_changed_at", "closed_at",
            "terminal__tag_number", "branch__name", "branch__address", "branch__hours",
        )
        .annotate(dropoff_at=Subquery(booked.order_by("starts_at", "pk").values("starts_at")[:1]))
    )


def find_public_ticket(service_order_no, tag_number):
    """The public view of the ticket, or None when the number is unknown OR the tag does not match.

    Both failures run the same single query and return the same None, so the answer never tells
    whether a service-order number exists.
    """
    from repairs.models import FaultTicket, TicketEvent

    number, tag = normalise_order_no(service_order_no), normalise_tag(tag_number)
    if not number or not tag:
        return None
    ticket = _public_tickets().filter(service_order_no=number).first()
    if ticket is None or ticket.terminal.tag_number.casefold() != tag.casefold():
        return None
    labels = dict(FaultTicket.Status.choices)
    rows = list(
        TicketEvent.objects.filter(ticket_id=ticket.pk, is_public=True)
        .order_by("created_at", "pk")
        .values_list("from_status", "to_status", "created_at")
    )
    events = [PublicEvent(status=to, label=str(labels.get(to, to)), at=at) for _frm, to, at in rows]
    previous = next((frm for frm, to, _at in reversed(rows) if to == "closed"), None)
    branch = None
    if ticket.branch_id:
        branch = PublicBranch(ticket.branch.name, ticket.branch.address, ticket.branch.hours)
    return PublicTicket(
        dropoff_at=ticket.dropoff_at,
        service_order_no=ticket.service_order_no,
        status=ticket.status,
        status_label=str(labels.get(ticket.status, ticket.status)),
        reported_at=ticket.created_at,
        updated_at=ticket.status_changed_at,
        closed_at=ticket.closed_at,
        branch=branch,
        steps=ticket_steps(ticket.status, previous),
        events=events,
    )


def tracking_path(ticket):
    """The /track/ link that opens this ticket's public timeline (printed as a QR code on receipts)."""
    query = urlencode({"no": ticket.service_order_no, "tag": ticket.terminal.tag_number})
    return f"{reverse('tracking:track')}?{query}"
