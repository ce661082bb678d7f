"""The agents' "likely faulty" queue: terminals their health reports flag (terminals.selectors.
likely_faulty) that have no open ticket yet, and a ticket opened from it (source "monitoring").
The page and the API call these two."""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.core.workflow import WorkflowError, role_of
from repairs.models import FaultTicket
from repairs.workflow import create_ticket
from terminals import selectors as terminal_selectors
from terminals.models import Terminal

MONITOR_ROLES = ("agent", "admin")
ONLY_AGENTS = gettext_lazy("Only a customer-service agent opens tickets from monitoring.")


def likely_faulty(user, now=None, *, serial_number=None):
    """The flagged terminals `user` may see, without those that already have an open ticket
    (`serial_number`: only that terminal, if flagged)."""
    if role_of(user) not in MONITOR_ROLES:
        return []
    open_tickets = FaultTicket.objects.open().values("terminal_id")
    terminals = Terminal.objects.visible_to(user).exclude(pk__in=open_tickets)
    if serial_number is not None:
        terminals = terminals.filter(serial_number=serial_number)
    return terminal_selectors.likely_faulty(terminals, now=now)


def _fault_type(suspect):
    code = suspect.error_code if suspect.repeating else ""
    if code in ("NET_DOWN",) or (suspect.silent and not code):
        return FaultTicket.FaultType.NETWORK
    if code == "CARD_READER":
        return FaultTicket.FaultType.CARD_READER
    return FaultTicket.FaultType.SYSTEM_FAULT


def open_monitoring_ticket(*, serial_number, actor, now=None):
    """Open a ticket for the merchant on a terminal of the queue (the agent takes it): the normal
    ticket creation, so the merchant is told as for any new ticket."""
    if role_of(actor) not in MONITOR_ROLES:
        raise WorkflowError(ONLY_AGENTS, code="forbidden")
    suspect = next(iter(likely_faulty(actor, now=now, serial_number=serial_number)), None)
    if suspect is None:
        message = _("Terminal %(serial)s is not in the likely-faulty queue (any more).") % {"serial": serial_number}
        raise WorkflowError(message, code="invalid", field_errors={"terminal": [message]})
    symptoms = _("Found by monitoring: %(reasons)s.") % {"reasons": "; ".join(str(r) for r in suspect.reasons)}
    return create_ticket(terminal=suspect.terminal, actor=actor, fault_type=_fault_type(suspect), symptoms=symptoms,
                         source=FaultTicket.Source.MONITORING)
