"""Loaner terminals: a branch's pool of the bank's own terminals, lent to a merchant for one repair.

A loaner's place in the pool is `Terminal.loaner_state`; while lent, `loaned_to` names the one
merchant that has it. Every change locks the terminal row, so two engineers lending the last
loaner cannot both succeed, and writes a TerminalEvent (the loaner's timeline) in the same
transaction. The fault-ticket side (which ticket, pickup, notifications) is repairs.loans.
"""

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.core.workflow import WorkflowError
from terminals.models import MaintenanceRecord, Terminal, TerminalEvent

L = Terminal.LoanerState


def _lock(terminal):
    return Terminal.objects.select_for_update().get(pk=terminal.pk)


def _event(terminal, actor, note, merchant_id=None):
    TerminalEvent.objects.create(
        terminal=terminal, kind=TerminalEvent.Kind.NOTE, merchant_id=merchant_id, actor=actor, note=note
    )


def may_manage_pool(user, branch_id):
    """Engineers of the branch and administrators look after its pool."""
    if not user.is_authenticated:
        return False
    return user.is_admin_role or (user.is_engineer and branch_id is not None and user.branch_id == branch_id)


@transaction.atomic
def add_to_pool(*, terminal, branch, actor):
    """Make a stock terminal (no merchant) a loaner in `branch`'s pool."""
    locked = _lock(terminal)
    if locked.status != Terminal.Status.IN_STOCK or locked.merchant_id or locked.is_loaner:
        raise WorkflowError(
            _("Only a terminal in stock, with no merchant, can join a loaner pool."), code="not_allowed"
        )
    locked.loaner_state = L.AVAILABLE
    locked.home_branch = branch
    locked.save(update_fields=["loaner_state", "home_branch", "updated_at"])
    _event(locked, actor, _("Added to the loaner pool of %(branch)s.") % {"branch": branch.name})
    terminal.loaner_state, terminal.home_branch = locked.loaner_state, branch
    return locked


def lend(*, loaner, merchant, actor, note=""):
    """Lend a pooled loaner to `merchant` (the caller's transaction). Refused unless it is in the pool."""
    locked = _lock(loaner)
    if locked.loaner_state != L.AVAILABLE:
        message = _("Loaner %(serial)s is not in the pool (it is %(state)s).") % {
            "serial": locked.serial_number,
            "state": locked.get_loaner_state_display() if locked.is_loaner else _("not a loaner"),
        }
        raise WorkflowError(message, code="not_allowed", field_errors={"loaner": [message]})
    locked.loaner_state = L.ON_LOAN
    locked.loaned_to = merchant
    locked.save(update_fields=["loaner_state", "loaned_to", "updated_at"])
    _event(locked, actor, note or _("Lent to %(merchant)s.") % {"merchant": merchant.name}, merchant.pk)
    return locked


def take_back(*, loaner, actor, outcome, note=""):
    """The loaner comes back (to be cleaned and inspected) or is recorded missing or damaged."""
    states = {"returned": L.INSPECTION, "missing": L.MISSING, "damaged": L.DAMAGED}
    locked = _lock(loaner)
    if locked.loaner_state != L.ON_LOAN:
        raise WorkflowError(_("Loaner %(serial)s is not on loan.") % {"serial": locked.serial_number})
    merchant_id = locked.loaned_to_id
    locked.loaner_state = states[outcome]
    locked.loaned_to = None
    locked.save(update_fields=["loaner_state", "loaned_to", "updated_at"])
    _event(locked, actor, note, merchant_id)
    return locked


@transaction.atomic
def back_to_pool(*, loaner, actor, note=""):
    """After cleaning and inspection (recorded as an inspection), a returned or damaged-and-mended
    loaner goes back to the pool."""
    locked = _lock(loaner)
    if locked.home_branch_id is None or not may_manage_pool(actor, locked.home_branch_id):
        raise WorkflowError(_("Only engineers of the loaner's branch can put it back."), code="forbidden")
    if locked.loaner_state not in (L.INSPECTION, L.DAMAGED, L.MISSING):
        raise WorkflowError(_("Loaner %(serial)s is not waiting for inspection.") % {"serial": locked.serial_number})
    note = (note or "").strip()
    if not note:
        message = _("Write what the cleaning and inspection found.")
        raise WorkflowError(message, code="invalid", field_errors={"note": [message]})
    MaintenanceRecord.objects.create(
        terminal=locked, kind=MaintenanceRecord.Kind.INSPECTION, done_by=actor, done_at=timezone.now(),
        note=note[:300],
    )
    locked.loaner_state = L.AVAILABLE
    locked.save(update_fields=["loaner_state", "updated_at"])
    _event(locked, actor, _("Cleaned and inspected, back in the pool: %(note)s") % {"note": note})
    return locked


# --- Reads ---------------------------------------------------------------------------------


def pool_for(user):
    """The loaners `user` looks after: its branch's for an engineer, every branch's for an admin."""
    qs = Terminal.objects.exclude(loaner_state="").select_related("home_branch", "loaned_to")
    if not user.is_authenticated:
        return qs.none()
    if user.is_admin_role:
        return qs.order_by("home_branch__code", "serial_number")
    if user.is_engineer and user.branch_id:
        return qs.filter(home_branch_id=user.branch_id).order_by("serial_number")
    return qs.none()


def stock_per_branch(user):
    """Per branch: loaners in the pool, on loan, waiting for inspection, missing or damaged."""
    counts = {state: Count("pk", filter=Q(loaner_state=state)) for state in L.values if state}
    return list(
        pool_for(user).order_by().values("home_branch__code", "home_branch__name").annotate(
            total=Count("pk"), **counts
        ).order_by("home_branch__code")
    )


def loaners_on_loan_to(merchant_id):
    """The loaners a merchant has now (its dashboard and terminal list)."""
    if not merchant_id:
        return []
    return list(Terminal.objects.filter(loaned_to_id=merchant_id, loaner_state=L.ON_LOAN).order_by("serial_number"))
