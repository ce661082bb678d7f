"""Every write that changes a terminal's life. Each status change locks the row, checks the
transition table, saves, and writes a TerminalEvent in the same transaction."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from terminals.models import Deregistration, Terminal, TerminalEvent

S = Terminal.Status

# The terminal's life, declared once: (from, to) pairs that any domain function may make.
TRANSITIONS = {
    S.IN_STOCK: {S.PENDING_ACTIVATION, S.DEREGISTERED, S.DESTROYED},
    S.PENDING_ACTIVATION: {S.ACTIVE, S.IN_STOCK},
    S.ACTIVE: {S.FAULTY, S.RETIRED, S.DEREGISTERED, S.DESTROYED},
    S.FAULTY: {S.ACTIVE, S.IN_REPAIR, S.RETIRED},
    S.IN_REPAIR: {S.ACTIVE, S.FAULTY, S.RETIRED},
    S.RETIRED: {S.DEREGISTERED, S.DESTROYED},
    S.DEREGISTERED: {S.IN_STOCK},
    S.DESTROYED: set(),
}


class TerminalError(Exception):
    """A refused change to a terminal; the message is for the user."""


def _lock(terminal):
    return Terminal.objects.select_for_update().get(pk=terminal.pk)


def _move(terminal, to, *, actor, note="", **changes):
    """Lock, check the table, apply `changes`, save and write the event. Returns the fresh row."""
    locked = _lock(terminal)
    if to not in TRANSITIONS[locked.status]:
        raise TerminalError(
            _("Terminal %(serial)s is %(status)s and cannot become %(to)s.")
            % {
                "serial": locked.serial_number,
                "status": locked.get_status_display(),
                "to": S(to).label,
            }
        )
    from_status = locked.status
    locked.status = to
    for field, value in changes.items():
        setattr(locked, field, value)
    locked.save(update_fields=["status", "updated_at", *changes])
    TerminalEvent.objects.create(
        terminal=locked,
        from_status=from_status,
        to_status=to,
        merchant_id=locked.merchant_id,
        actor=actor,
        note=note,
    )
    terminal.__dict__.update({k: getattr(locked, k) for k in ("status", "merchant_id", *changes)})
    return locked


@transaction.atomic
def issue_to_merchant(*, terminal, merchant, actor, note=""):
    """Assign a stock terminal to a merchant (pending activation). No cross-use: only from stock."""
    locked = _lock(terminal)
    if locked.status != S.IN_STOCK or (locked.merchant_id and locked.merchant_id != merchant.pk):
        raise TerminalError(
            _("Terminal %(serial)s is not in stock: a terminal belongs to one merchant and can be "
              "issued to another only after deregistration and re-issue by staff.")
            % {"serial": locked.serial_number}
        )
    return _move(terminal, S.PENDING_ACTIVATION, actor=actor, note=note, merchant=merchant)


@transaction.atomic
def activate(*, terminal, actor, note="", tid=None, mid=None):
    changes = {"activated_on": timezone.localdate()}
    if tid:
        changes["tid"] = tid
    if mid:
        changes["mid"] = mid
    return _move(terminal, S.ACTIVE, actor=actor, note=note, **changes)


@transaction.atomic
def mark_faulty(*, terminal, actor, note=""):
    """An open fault ticket: active → faulty."""
    return _move(terminal, S.FAULTY, actor=actor, note=note)


@transaction.atomic
def mark_in_repair(*, terminal, actor, note=""):
    """Taken in at a branch: faulty → in_repair."""
    return _move(terminal, S.IN_REPAIR, actor=actor, note=note)


@transaction.atomic
def mark_working(*, terminal, actor, note=""):
    """Fault cleared (resolved remotely, cancelled, or picked up after repair): → active."""
    return _move(terminal, S.ACTIVE, actor=actor, note=note)


@transaction.atomic
def retire(*, terminal, actor, note=""):
    """Unrepairable: out of service until deregistered or destroyed."""
    return _move(terminal, S.RETIRED, actor=actor, note=note, retired_on=timezone.localdate())


@transaction.atomic
def deregister(*, terminal, method, certificate_number, witness, date, actor, note=""):
    """Record how the terminal left service; the only way its life ends, never undone."""
    locked = _lock(terminal)
    to = S.DESTROYED if method == Deregistration.Method.DESTROYED else S.DEREGISTERED
    if to not in TRANSITIONS[locked.status]:
        raise TerminalError(
            _("Terminal %(serial)s is %(status)s and cannot be deregistered now.")
            % {"serial": locked.serial_number, "status": locked.get_status_display()}
        )
    record = Deregistration.objects.create(
        terminal=locked,
        method=method,
        certificate_number=certificate_number,
        witness=witness,
        date=date,
        merchant_id=locked.merchant_id,
        recorded_by=actor,
    )
    changes = {} if locked.retired_on else {"retired_on": date}
    _move(terminal, to, actor=actor, note=note or certificate_number, **changes)
    return record
