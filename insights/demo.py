"""Demo satisfaction ratings: the demo merchants rate their finished demo repairs (idempotent)."""

from insights.models import Satisfaction
from insights.services import RATABLE_STATUSES, rate_ticket


def seed(ctx):
    from repairs.models import FaultTicket

    for username, rating in (("merchant", 5), ("merchant2", 4)):
        user = ctx.users.get(username)
        if user is None:
            continue
        tickets = FaultTicket.objects.filter(merchant_id=user.merchant_id, status__in=RATABLE_STATUSES).exclude(
            pk__in=Satisfaction.objects.values("ticket_id")
        )
        for ticket in tickets:
            rate_ticket(ticket=ticket, actor=user, rating=rating, comment="")
