"""Public tracking: a service-order number plus the terminal's tag number → the public timeline.

The result is a plain dataclass built from an allow-list of fields, so the page cannot reach a
name, a phone number, a note, a symptom or the pickup code even by mistake.
"""

from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlencode

from django.db.models import OuterRef, Subquery
from django.urls import reverse

from portal.core.querysets import compiled_once
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


@compiled_once(str)
def _public_tickets(number):
    """What the public page shows of a ticket, and its booked drop-off in the same query (a ticket
    has at most one booked)."""
    from repairs.models import DropoffBooking, FaultTicket

    booked = DropoffBooking.objects.filter(ticket=OuterRef("pk"), status=DropoffBooking.Status.BOOKED)
    return (
        FaultTicket.objects.filter(service_order_no=number)
        .annotate(dropoff_at=Subquery(booked.order_by("starts_at", "pk").values("starts_at")[:1]))
        .values(
            "pk", "status", "created_at", "status_changed_at", "closed_at", "terminal__tag_number",
            "branch_id", "branch__name", "branch__address", "branch__hours", "dropoff_at",
        )
        .order_by()[:1]
    )


@compiled_once(int)
def _public_events(ticket_id):
    from repairs.models import TicketEvent

    return (
        TicketEvent.objects.filter(ticket_id=ticket_id, is_public=True)
        .order_by("created_at", "pk")
        .values("from_status", "to_status", "created_at")
    )


def find_public_ticket(service_order_no, tag_number):
    """The public view of the ticket, or None when the number is unknown OR the tag does not match.

    Both failures run the same single query and return the same None, so the answer never tells
    whether a service-order number exists. (Both queries are compiled once per worker: see
    portal.core.querysets.compiled_once.)
    """
    from repairs.models import FaultTicket

    number, tag = normalise_order_no(service_order_no), normalise_tag(tag_number)
    if not number or not tag:
        return None
    found = _public_tickets(number)
    if not found or found[0]["terminal__tag_number"].casefold() != tag.casefold():
        return None
    ticket = found[0]
    labels = dict(FaultTicket.Status.choices)
    rows = _public_events(ticket["pk"])
    events = [PublicEvent(status=e["to_status"], label=str(labels.get(e["to_status"], e["to_status"])), at=e["created_at"])
              for e in rows]
    previous = next((e["from_status"] for e in reversed(rows) if e["to_status"] == "closed"), None)
    branch = None
    if ticket["branch_id"]:
        branch = PublicBranch(ticket["branch__name"], ticket["branch__address"], ticket["branch__hours"])
    return PublicTicket(
        dropoff_at=ticket["dropoff_at"],
        service_order_no=number,
        status=ticket["status"],
        status_label=str(labels.get(ticket["status"], ticket["status"])),
        reported_at=ticket["created_at"],
        updated_at=ticket["status_changed_at"],
        closed_at=ticket["closed_at"],
        branch=branch,
        steps=ticket_steps(ticket["status"], previous),
        events=events,
    )


def tracking_path(ticket):
    """The /track/ link that opens this ticket's public timeline (printed as a QR code on receipts)."""
    query = urlencode({"no": ticket.service_order_no, "tag": ticket.terminal.tag_number})
    return f"{reverse('tracking:track')}?{query}"
