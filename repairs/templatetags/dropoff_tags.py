"""{% dropoff_panel ticket %}: the ticket page's booked drop-off (templates/repairs/_dropoff_panel.html)."""

from django import template
from django.utils import timezone

from repairs import dropoff
from repairs.models import FaultTicket

register = template.Library()


@register.inclusion_tag("repairs/_dropoff_panel.html", takes_context=True)
def dropoff_panel(context, ticket):
    from repairs.dropoff_views import DropoffForm

    user = context["request"].user
    # Only a ticket sent to a branch can have a booking: no query for the others.
    booking = dropoff.current_booking(ticket) if ticket.branch_id else None
    if booking is not None:
        booking.ticket = ticket  # is_missed reads its status: no second query
    waiting = ticket.status == FaultTicket.Status.AWAITING_BRANCH and ticket.branch_id
    can_book = bool(waiting) and dropoff.may_book(ticket, user)
    form = None
    if can_book:
        form = context.get("dropoff_form") or DropoffForm(ticket=ticket)
        attrs = {"class": "form-select", "required": True}
        if form.errors.get("starts_at"):
            attrs.update({"class": "form-select is-invalid", "aria-invalid": "true",
                          "aria-describedby": "id_starts_at_error"})
        form.fields["starts_at"].widget.attrs.update(attrs)
    return {
        "request": context["request"],
        "csrf_token": context.get("csrf_token"),
        "ticket": ticket,
        "booking": booking,
        "show": bool(booking) or can_book,
        "can_book": can_book,
        "form": form,
        "has_capacity": can_book and dropoff.capacity_of(ticket.branch_id) is not None,
    }


@register.inclusion_tag("repairs/_todays_dropoffs.html", takes_context=True)
def todays_dropoffs(context):
    """The engineer's branch: today's booked drop-offs in time order (bounded by its capacity)."""
    user = context["request"].user
    return {"bookings": dropoff.day_bookings(user.branch_id), "today": timezone.localdate()}


@register.simple_tag
def booked_dropoff(ticket):
    """The ticket's booked drop-off, or None (the printed repair request form carries it)."""
    return dropoff.current_booking(ticket)
