"""Writes of the insights area: the merchant's satisfaction rating."""

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from insights.models import Satisfaction

# The merchant rates when the repair is over: once resolved (remotely or picked up) or closed.
RATABLE_STATUSES = ("resolved_remotely", "picked_up", "closed")


class RatingError(Exception):
    def __init__(self, message, code="invalid"):
        super().__init__(message)
        self.message = message
        self.code = code


def can_rate(ticket, user):
    return bool(
        user.is_authenticated
        and user.is_merchant
        and user.merchant_id == ticket.merchant_id
        and ticket.status in RATABLE_STATUSES
    )


def rate_ticket(*, ticket, actor, rating, comment=""):
    """Record the merchant's 1–5 rating of a finished repair (once per ticket)."""
    from repairs.models import FaultTicket

    if not (actor.is_merchant and actor.merchant_id == ticket.merchant_id):
        raise RatingError(_("Only the merchant of this ticket can rate the repair."), "forbidden")
    if not 1 <= int(rating) <= 5:
        raise RatingError(_("Choose a rating from 1 to 5."))
    with transaction.atomic():
        locked = FaultTicket.objects.select_for_update().get(pk=ticket.pk)
        if locked.status not in RATABLE_STATUSES:
            raise RatingError(_("The repair can be rated once it is finished."), "not_allowed")
        if Satisfaction.objects.filter(ticket=locked).exists():
            raise RatingError(_("This repair has already been rated."), "not_allowed")
        try:
            with transaction.atomic():
                return Satisfaction.objects.create(
                    ticket=locked, rating=int(rating), comment=(comment or "").strip(), rated_by=actor
                )
        except IntegrityError as exc:  # a second tab won the race
            raise RatingError(_("This repair has already been rated."), "not_allowed") from exc
