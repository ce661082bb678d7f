"""Every write that changes a terminal's life. Each status change locks the row, checks the
state machine (MACHINE, in the workflow core's shape), saves, and writes a TerminalEvent in the
same transaction. A refusal is a portal.core.workflow.WorkflowError and changes nothing."""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.accounts.models import REVIEWER_ROLES, Role
from portal.core.workflow import SYSTEM, StateMachine, Transition, WorkflowError
from terminals import tasks
from terminals.models import (
    Deregistration,
    ImportJob,
    MaintenanceRecord,
    Terminal,
    TerminalEvent,
    validate_mid,
    validate_tid,
)

S = Terminal.Status
# Who manages the inventory (issue, activate, restock, deregister, import): reviewers and admins.
MANAGERS = frozenset(REVIEWER_ROLES)
# The moves that follow a fault ticket are made by whoever makes the ticket's step (the repairs
# workflow decides who may): any signed-in role, or the portal itself.
FOLLOWS_A_TICKET = frozenset({*Role.values, SYSTEM})


def _t(sources, target, roles, label):
    return Transition(sources=tuple(sources), target=target, roles=roles, label=label)


# The terminal's life, declared once (DESIGN.md "Fault ticket states", the terminal's status).
MACHINE = StateMachine(
    states=S,
    transitions=[
        _t([S.IN_STOCK], S.PENDING_ACTIVATION, MANAGERS, gettext_lazy("Issue to a merchant")),
        _t([S.PENDING_ACTIVATION], S.ACTIVE, MANAGERS, gettext_lazy("Activate")),
        _t([S.PENDING_ACTIVATION, S.DEREGISTERED], S.IN_STOCK, MANAGERS, gettext_lazy("Return to stock")),
        _t([S.ACTIVE, S.IN_REPAIR], S.FAULTY, FOLLOWS_A_TICKET, gettext_lazy("Faulty")),
        _t([S.FAULTY], S.IN_REPAIR, FOLLOWS_A_TICKET, gettext_lazy("In repair")),
        _t([S.FAULTY, S.IN_REPAIR], S.ACTIVE, FOLLOWS_A_TICKET, gettext_lazy("Working again")),
        _t([S.ACTIVE, S.FAULTY, S.IN_REPAIR], S.RETIRED, FOLLOWS_A_TICKET, gettext_lazy("Retire")),
        _t([S.IN_STOCK, S.ACTIVE, S.RETIRED], S.DEREGISTERED, MANAGERS, gettext_lazy("Deregister")),
        _t([S.IN_STOCK, S.ACTIVE, S.RETIRED], S.DESTROYED, MANAGERS, gettext_lazy("Destroy")),
    ],
    fields={},
    describe=lambda terminal: _("Terminal %(serial)s") % {"serial": terminal.serial_number},
)

# A second identical maintenance click within this window is the same record (double submit).
MAINTENANCE_DEDUP_WINDOW = timedelta(minutes=1)


def can_manage(user):
    """Staff who manage the inventory: issue, activate, restock, deregister, import."""
    return bool(user and user.is_authenticated and user.is_reviewer_or_admin)


def allowed_targets(terminal):
    """The statuses the terminal can move to from its current one."""
    return {t.target for t in MACHINE.leaving(terminal.status)}


def _lock(terminal):
    return Terminal.objects.select_for_update().get(pk=terminal.pk)


def _move(terminal, to, *, actor, note="", locked=None, **changes):
    """Lock, check the machine, apply `changes`, save and write the event. Returns the fresh row."""
    locked = locked or _lock(terminal)
    MACHINE.check(locked, to, actor)
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
    # The caller's object reflects the change (through the descriptors, so FK caches stay right).
    for field in ("status", "updated_at", *changes):
        setattr(terminal, field, getattr(locked, field))
    return locked


def _check_ids(tid, mid):
    errors = {}
    for field, value, validator in (("tid", tid, validate_tid), ("mid", mid, validate_mid)):
        if value:
            try:
                validator(value)
            except ValidationError as exc:
                errors[field] = exc.messages
    if errors:
        raise WorkflowError(
            " ".join(m for ms in errors.values() for m in ms), code="invalid", field_errors=errors
        )


@transaction.atomic
def register_terminal(
    *, serial_number, tag_number, model, manufacturer, channel, actor, home_branch=None, note=""
):
    """Add one new terminal to stock (validated) and write its "registered" event."""
    terminal = Terminal(
        serial_number=serial_number,
        tag_number=tag_number,
        model=model,
        manufacturer=manufacturer,
        channel=channel,
        home_branch=home_branch,
    )
    try:
        terminal.full_clean()
    except ValidationError as exc:
        raise WorkflowError(
            " ".join(exc.messages), code="invalid", field_errors=exc.message_dict
        ) from exc
    terminal.save()
    record_registration(terminal=terminal, actor=actor, note=note)
    return terminal


def record_registration(*, terminal, actor, note=""):
    """The first line of a terminal's timeline (used by registration, import and the admin)."""
    return TerminalEvent.objects.create(
        terminal=terminal,
        kind=TerminalEvent.Kind.CREATED,
        to_status=terminal.status,
        merchant_id=terminal.merchant_id,
        actor=actor,
        note=note,
    )


@transaction.atomic
def issue_to_merchant(*, terminal, merchant, actor, note="", home_branch=None):
    """Assign a stock terminal to a merchant (pending activation). No cross-use: only from stock."""
    locked = _lock(terminal)
    if locked.is_loaner:
        # The one-merchant rule for loaners: lent for a repair only (terminals.loaners), never issued.
        raise WorkflowError(
            _("Terminal %(serial)s is a loaner of a branch pool: it is lent for a repair only and "
              "cannot be issued to a merchant.") % {"serial": locked.serial_number}
        )
    if locked.status != S.IN_STOCK or (locked.merchant_id and locked.merchant_id != merchant.pk):
        raise WorkflowError(
            _("Terminal %(serial)s is not in stock: a terminal belongs to one merchant and can be "
              "issued to another only after deregistration and re-issue by staff.")
            % {"serial": locked.serial_number}
        )
    changes = {"merchant": merchant}
    if home_branch is not None:
        changes["home_branch"] = home_branch
    return _move(terminal, S.PENDING_ACTIVATION, actor=actor, note=note, locked=locked, **changes)


@transaction.atomic
def activate(*, terminal, actor, note="", tid=None, mid=None):
    """Service goes live on an issued terminal (optionally with its UnionPay TID and MID)."""
    tid = (tid or "").strip().upper()
    mid = (mid or "").strip()
    _check_ids(tid, mid)
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
def return_to_stock(*, terminal, actor, note=""):
    """Back to stock, free of any merchant: an issue cancelled before activation, or a returned
    and deregistered terminal made ready for re-issue. Clears the merchant, TID and MID."""
    return _move(
        terminal,
        S.IN_STOCK,
        actor=actor,
        note=note,
        merchant=None,
        tid="",
        mid="",
        activated_on=None,
        retired_on=None,
    )


@transaction.atomic
def deregister(*, terminal, method, certificate_number, witness, date, actor, note=""):
    """Record how the terminal left service; the only way its life ends, never undone."""
    field_errors = {}
    if method not in Deregistration.Method.values:
        field_errors["method"] = [_("Choose returned or destroyed.")]
    if not (certificate_number or "").strip():
        field_errors["certificate_number"] = [_("The certificate number is required.")]
    if not (witness or "").strip():
        field_errors["witness"] = [_("The witness is required.")]
    if date and date > timezone.localdate():
        field_errors["date"] = [_("The date cannot be in the future.")]
    if field_errors:
        raise WorkflowError(
            " ".join(m for ms in field_errors.values() for m in ms), code="invalid", field_errors=field_errors
        )
    date = date or timezone.localdate()
    locked = _lock(terminal)
    to = S.DESTROYED if method == Deregistration.Method.DESTROYED else S.DEREGISTERED
    if MACHINE.transition(locked.status, to) is None:
        raise WorkflowError(
            _("Terminal %(serial)s is %(status)s and cannot be deregistered now.")
            % {"serial": locked.serial_number, "status": locked.get_status_display()}
        )
    record = Deregistration.objects.create(
        terminal=locked,
        method=method,
        certificate_number=certificate_number.strip(),
        witness=witness.strip(),
        date=date,
        merchant_id=locked.merchant_id,
        recorded_by=actor,
    )
    changes = {} if locked.retired_on else {"retired_on": date}
    _move(terminal, to, actor=actor, note=note or certificate_number, locked=locked, **changes)
    return record


def can_log_maintenance(terminal, user):
    """The owning merchant's users while the terminal is in their hands; staff unless it is gone."""
    if not user.is_authenticated:
        return False
    if user.is_staff_role:
        return terminal.status != S.DESTROYED
    return (
        user.merchant_id is not None
        and user.merchant_id == terminal.merchant_id
        and terminal.status in Terminal.WITH_MERCHANT_STATUSES
    )


@transaction.atomic
def log_maintenance(*, terminal, kind, actor, note="", done_at=None):
    """Record a cleaning, paper-roll change or inspection. A repeated click is not a new record."""
    if kind not in MaintenanceRecord.Kind.values:
        raise WorkflowError(_("Unknown kind of maintenance."), code="invalid")
    locked = _lock(terminal)
    if not can_log_maintenance(locked, actor):
        raise WorkflowError(
            _("Maintenance cannot be recorded for terminal %(serial)s while it is %(status)s.")
            % {"serial": locked.serial_number, "status": locked.get_status_display()}
        )
    now = timezone.now()
    recent = (
        MaintenanceRecord.objects.filter(
            terminal=locked, kind=kind, done_by=actor, done_at__gte=now - MAINTENANCE_DEDUP_WINDOW
        )
        .order_by("-done_at")
        .first()
    )
    if recent is not None and done_at is None and not note:
        return recent
    return MaintenanceRecord.objects.create(
        terminal=locked, kind=kind, done_by=actor, done_at=done_at or now, note=note[:300]
    )


# --- Bulk import ---------------------------------------------------------------------------


@transaction.atomic
def create_import_job(*, uploaded, file_format, actor):
    """Store an upload already checked by `terminals.imports.check_import_file` and queue it."""
    job = ImportJob(
        original_name=(uploaded.name or "")[-255:],
        format=file_format,
        size=uploaded.size,
        created_by=actor,
    )
    job.file.save(uploaded.name or "import.csv", uploaded, save=False)
    job.save()
    transaction.on_commit(lambda: tasks.process_import.delay(job.pk))
    return job
