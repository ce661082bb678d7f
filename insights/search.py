"""Global search for staff: one box for service-order numbers, terminal identifiers and merchants."""

from dataclasses import dataclass, field

from django.db.models import Q
from django.urls import reverse

from portal.accounts.models import Merchant
from repairs import selectors as repairs
from terminals import selectors as terminals

LIMIT = 10


@dataclass
class SearchResults:
    query: str
    tickets: list = field(default_factory=list)
    terminals: list = field(default_factory=list)
    merchants: list = field(default_factory=list)

    @property
    def count(self):
        return len(self.tickets) + len(self.terminals) + len(self.merchants)

    @property
    def single_url(self):
        """The one match's page when there is exactly one match (and it has a page)."""
        if self.count != 1:
            return None
        obj = (self.tickets or self.terminals or self.merchants)[0]
        return object_url(obj)


def object_url(obj):
    if isinstance(obj, Merchant):
        return reverse("accounts:merchant", args=[obj.pk])
    return obj.get_absolute_url()


def _tickets(user, q):
    number = "".join(q.split()).upper()
    if len(number) < 4:
        return []
    # A prefix (SO20261124) lists that day's tickets; the unique index serves both forms.
    return repairs.search_tickets(user, number, LIMIT)


def _terminals(user, q):
    return terminals.find_terminals(user, q, LIMIT)


def _merchants(user, q):
    qs = Merchant.objects.visible_to(user).filter(
        Q(name__icontains=q) | Q(credit_code=q.upper()) | Q(contact_phone__startswith=q)
    )
    return list(qs.order_by("name", "pk")[:LIMIT])


def global_search(user, q):
    """Tickets, terminals and merchants matching `q` that `user` may see (three queries)."""
    q = (q or "").strip()[:100]
    results = SearchResults(query=q)
    if len(q) < 2:
        return results
    results.tickets = _tickets(user, q)
    results.terminals = _terminals(user, q)
    results.merchants = _merchants(user, q)
    for obj in (*results.tickets, *results.terminals, *results.merchants):
        obj.portal_url = object_url(obj)
    return results
