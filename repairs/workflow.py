"""The fault-ticket state machine (DESIGN.md, "Fault ticket states"), declared once, and every write.

`TRANSITIONS` is the table the pages, the API and the admin all read: from, to, who may make the
change, what it needs, whether its event is public, and what it does to the terminal.
`ticket_transition` is the one entry point that performs a transition; `create_ticket` opens one.
"""

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from notifications.services import notify, notify_audiences
from portal.accounts.models import Branch, User
from repairs import sla
from repairs.models import (
    FaultTicket,
    NetworkTest,
    RepairRequest,
    ServiceOrderCounter,
    TicketAttachment,
    TicketComment,
    TicketEvent,
)

S = FaultTicket.Status
SYSTEM = "system"
STAFF_AGENT = frozenset({"agent", "admin"})
STAFF_ENGINEER = frozenset({"engineer", "admin"})
NOTE_MAX = 4000
DOCUMENTS = RepairRequest.Document


@dataclass(frozen=True)
class Transition:
    source: str
    target: str
    roles: frozenset
    label: str
    needs: tuple = ()  # fields that must be given (DESIGN.md names)
    optional: tuple = ("note",)
    public: bool = True  # whether the event shows on the merchant's timeline
    terminal: str = ""  # the terminals.services function that moves the terminal, if any
    style: str = "primary"
    note_label: str = gettext_lazy("Note")

    @property
    def fields(self):
        return tuple(dict.fromkeys(self.needs + self.optional))


T = Transition
TRANSITIONS = [
    T(S.REPORTED, S.REMOTE_DIAGNOSIS, STAFF_AGENT, gettext_lazy("Take the ticket")),
    T(S.REMOTE_DIAGNOSIS, S.RESOLVED_REMOTELY, STAFF_AGENT, gettext_lazy("Resolved remotely"),
      needs=("note",), terminal="mark_working", style="success", note_label=gettext_lazy("What was done")),
    T(S.REMOTE_DIAGNOSIS, S.AWAITING_BRANCH, STAFF_AGENT, gettext_lazy("Escalate to a branch"),
      needs=("branch",), style="warning"),
    T(S.RESOLVED_REMOTELY, S.CLOSED, frozenset({"merchant", SYSTEM}), gettext_lazy("Confirm it works"),
      style="success"),
    T(S.RESOLVED_REMOTELY, S.REMOTE_DIAGNOSIS, frozenset({"merchant"}), gettext_lazy("Still broken"),
      terminal="mark_faulty", style="danger", note_label=gettext_lazy("What is still wrong")),
    T(S.AWAITING_BRANCH, S.AT_BRANCH, STAFF_ENGINEER, gettext_lazy("Take in at the branch"),
      needs=("tag_number", "serial_number", "documents"), terminal="mark_in_repair"),
    T(S.AT_BRANCH, S.DIAGNOSING, STAFF_ENGINEER, gettext_lazy("Start diagnosis")),
    T(S.DIAGNOSING, S.REPAIRING, STAFF_ENGINEER, gettext_lazy("Diagnosed: start the repair"),
      needs=("diagnosis",)),
    T(S.DIAGNOSING, S.UNREPAIRABLE, STAFF_ENGINEER, gettext_lazy("Unrepairable"),
      needs=("note",), terminal="retire", style="danger", note_label=gettext_lazy("Reason")),
    T(S.REPAIRING, S.NETWORK_TESTING, STAFF_ENGINEER, gettext_lazy("Repaired: start the network test"),
      needs=("work_done",), optional=("parts", "note")),
    T(S.REPAIRING, S.UNREPAIRABLE, STAFF_ENGINEER, gettext_lazy("Unrepairable"),
      needs=("note",), terminal="retire", style="danger", note_label=gettext_lazy("Reason")),
    T(S.NETWORK_TESTING, S.READY_FOR_PICKUP, STAFF_ENGINEER, gettext_lazy("Network test passed"),
      optional=("test_passed", "note"), style="success", note_label=gettext_lazy("Test details")),
    T(S.NETWORK_TESTING, S.REPAIRING, STAFF_ENGINEER, gettext_lazy("Network test failed"),
      needs=("note",), optional=("test_passed",), style="danger", note_label=gettext_lazy("What failed")),
    T(S.READY_FOR_PICKUP, S.PICKED_UP, STAFF_ENGINEER, gettext_lazy("Hand over to the merchant"),
      needs=("pickup_code",), terminal="mark_working", style="success"),
    T(S.PICKED_UP, S.CLOSED, frozenset({"merchant", SYSTEM}), gettext_lazy("Confirm it works"),
      style="success"),
    T(S.UNREPAIRABLE, S.REPLACEMENT, frozenset({SYSTEM}), gettext_lazy("Replacement applied for")),
    T(S.REPLACEMENT, S.CLOSED, frozenset({SYSTEM}), gettext_lazy("Replacement activated")),
    *(
        T(source, S.CANCELLED, frozenset({"merchant", "agent", "admin"}), gettext_lazy("Cancel the ticket"),
          needs=("note",), terminal="mark_working", style="outline-danger", note_label=gettext_lazy("Reason"))
        for source in (S.REPORTED, S.REMOTE_DIAGNOSIS, S.AWAITING_BRANCH)
    ),
]
TABLE = {(t.source, t.target): t for t in TRANSITIONS}

# The terminal status each terminals.services function leads to (skipped when already there).
TERMINAL_TARGET = {
    "mark_faulty": "faulty",
    "mark_in_repair": "in_repair",
    "mark_working": "active",
    "retire": "retired",
}

# The stages the merchant's stepper shows, and the statuses that belong to each.
STAGES = [
    ("remote", gettext_lazy("Remote diagnosis"), {S.REPORTED, S.REMOTE_DIAGNOSIS, S.RESOLVED_REMOTELY}),
    ("branch", gettext_lazy("Branch repair"), {S.AWAITING_BRANCH, S.AT_BRANCH, S.DIAGNOSING, S.REPAIRING}),
    ("test", gettext_lazy("Network test"), {S.NETWORK_TESTING}),
    ("pickup", gettext_lazy("Pickup"), {S.READY_FOR_PICKUP, S.PICKED_UP}),
    ("replacement", gettext_lazy("Replacement"), {S.UNREPAIRABLE, S.REPLACEMENT}),
]


class TransitionError(Exception):
    """A refused change; `code` is not_allowed (409), forbidden (403), stale (409) or invalid (400)."""

    def __init__(self, message, *, code="not_allowed", field_errors=None):
        super().__init__(str(message))
        self.message = str(message)
        self.code = code
        self.field_errors = field_errors or {}


# --- who may do what ------------------------------------------------------------------------


def role_of(user):
    if user is None:
        return SYSTEM
    if user.is_superuser or user.role == "admin":
        return "admin"
    return user.role


def _refusal(spec, ticket, user):
    """Why `user` may not make `spec` on `ticket` now, or None when they may."""
    role = role_of(user)
    if role not in spec.roles:
        return _("You cannot make this change (%(label)s) in your role.") % {"label": spec.label}
    if role == "merchant" and ticket.merchant_id != user.merchant_id:
        return _("This ticket belongs to another merchant.")
    if role == "engineer" and (ticket.branch_id is None or ticket.branch_id != user.branch_id):
        return _("Only engineers of the branch the ticket was sent to can work on it.")
    return None


def allowed_transitions(ticket, user):
    """The transitions `user` may make on `ticket` in its current state (for forms and buttons)."""
    return [t for t in TRANSITIONS if t.source == ticket.status and _refusal(t, ticket, user) is None]


def may_act(ticket, user):
    return bool(allowed_transitions(ticket, user))


# --- field checks ---------------------------------------------------------------------------


def _bool(value):
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"1", "true", "yes", "on", "pass", "passed"}


def _text(fields, *names):
    for name in names:
        value = fields.get(name)
        if value not in (None, ""):
            return str(value).strip()
    return ""


def _clean(spec, ticket, fields):
    """Check what the transition needs; return the cleaned values or raise TransitionError(invalid)."""
    errors = {}
    cleaned = {"note": _text(fields, "note", "reason")}
    required = _("This is required for this step.")
    if len(cleaned["note"]) > NOTE_MAX:
        errors["note"] = [_("At most %(n)s characters.") % {"n": NOTE_MAX}]
    if "note" in spec.needs and not cleaned["note"]:
        errors["note"] = [required]

    if "branch" in spec.needs:
        value = fields.get("branch")
        code = value.code if isinstance(value, Branch) else str(value or "").strip()
        branch = Branch.objects.filter(code__iexact=code, is_active=True).first() if code else None
        if branch is None:
            errors["branch"] = [_("Choose one of the branches in the list.") if code else required]
        cleaned["branch"] = branch

    if "tag_number" in spec.needs:
        terminal = ticket.terminal
        for name, real in (("tag_number", terminal.tag_number), ("serial_number", terminal.serial_number)):
            given = _text(fields, name)
            if not given:
                errors[name] = [required]
            elif given.upper() != real.upper():
                errors[name] = [
                    _("This does not match the terminal of this ticket: check the device in front of you.")
                ]
            cleaned[name] = given
    if "documents" in spec.needs:
        docs = fields.get("documents") or []
        if isinstance(docs, str):
            docs = [d for d in (p.strip() for p in docs.split(",")) if d]
        docs = list(dict.fromkeys(str(d) for d in docs))
        unknown = [d for d in docs if d not in DOCUMENTS.values]
        if unknown:
            errors["documents"] = [_("Unknown document: %(names)s.") % {"names": ", ".join(unknown)}]
        elif not docs:
            errors["documents"] = [_("Tick the documents the merchant presented.")]
        cleaned["documents"] = docs

    if "diagnosis" in spec.needs:
        cleaned["diagnosis"] = _text(fields, "diagnosis", "note")
        if not cleaned["diagnosis"]:
            errors["diagnosis"] = [required]
    if "work_done" in spec.needs:
        cleaned["work_done"] = _text(fields, "work_done", "note")
        if not cleaned["work_done"]:
            errors["work_done"] = [required]
        cleaned["parts"] = _text(fields, "parts")[:300]

    if spec.source == S.NETWORK_TESTING:
        passed = spec.target == S.READY_FOR_PICKUP
        given = fields.get("test_passed")
        if given not in (None, "") and _bool(given) != passed:
            errors["test_passed"] = [
                _("A passed test leads to ready for pickup, a failed one back to repairing.")
            ]
        cleaned["details"] = _text(fields, "details", "note")
        if not passed and not cleaned["details"]:
            errors["note"] = [required]

    if "pickup_code" in spec.needs:
        cleaned["pickup_code"] = _text(fields, "pickup_code")
        if not cleaned["pickup_code"]:
            errors["pickup_code"] = [required]

    if errors:
        raise TransitionError(_("Please correct the fields marked below."), code="invalid", field_errors=errors)
    return cleaned


# --- the entry point ------------------------------------------------------------------------


def _new_pickup_code():
    return f"{secrets.randbelow(10**6):06d}"


def _max_attempts():
    return settings.PICKUP_CODE_MAX_ATTEMPTS


def ticket_transition(*, ticket, to, actor, **fields):
    """Move `ticket` to `to` as `actor` (None = the system); return the TicketEvent written.

    Locks the row, refuses a stale version, checks state, role and fields against TRANSITIONS,
    saves, writes the event, moves the terminal and queues notifications, all in one transaction.
    `ticket` is a FaultTicket, or a queryset of the one ticket the caller may see (the API): then
    the locked read is also the visibility check (FaultTicket.DoesNotExist when it finds nothing)
    and `event.ticket` is the saved row.
    """
    notify_kind = fields.pop("notify_kind", "ticket.status")
    version = fields.pop("version", None)
    pending_error = None
    with transaction.atomic():
        locked = _lock(ticket)
        if version not in (None, "") and str(version) != str(locked.version):
            raise TransitionError(
                _("Ticket %(no)s changed while you were looking at it (it is now %(status)s): reload and try again.")
                % {"no": locked.service_order_no, "status": locked.get_status_display()},
                code="stale",
            )
        spec = TABLE.get((locked.status, str(to)))
        if spec is None:
            target = dict(S.choices).get(str(to), str(to))
            raise TransitionError(
                _("Ticket %(no)s is %(status)s: it cannot become “%(to)s” now.")
                % {"no": locked.service_order_no, "status": locked.get_status_display(), "to": target},
                code="not_allowed",
            )
        refusal = _refusal(spec, locked, actor)
        if refusal:
            raise TransitionError(refusal, code="forbidden")
        cleaned = _clean(spec, locked, fields)

        if spec.target == S.PICKED_UP:
            pending_error = _check_pickup_code(locked, actor, cleaned["pickup_code"])
        if pending_error is None:
            event = _apply(spec, locked, actor, cleaned, notify_kind)
    if pending_error is not None:
        # Raised after the block so the counted wrong attempt is committed.
        raise pending_error
    if isinstance(ticket, FaultTicket):
        for name in ("status", "version", "agent_id", "agent_name", "branch_id", "status_changed_at",
                     "closed_at", "sla_due_at", "updated_at"):
            setattr(ticket, name, getattr(locked, name))
        ticket._state.fields_cache.pop("branch", None)
        ticket._state.fields_cache.pop("agent", None)
    return event


def _lock(ticket):
    """The ticket's row, locked until commit, with what a transition and its answer read of it."""
    tickets = FaultTicket.objects.filter(pk=ticket.pk) if isinstance(ticket, FaultTicket) else ticket
    locked = (
        tickets.select_related("terminal", "merchant", "branch", "agent")
        .select_for_update(of=("self",))
        .get()
    )
    # The joined rows are read as of the statement's start: after waiting for a concurrent
    # transition, the ticket is its new version but its branch or agent may be the old one (or
    # none). Drop a join that no longer matches the locked row; it loads again when used.
    for name in ("branch", "agent"):
        cached = locked._state.fields_cache.get(name)
        if getattr(cached, "pk", None) != getattr(locked, f"{name}_id"):
            locked._state.fields_cache.pop(name, None)
    return locked


def _check_pickup_code(locked, actor, code):
    rr = RepairRequest.objects.select_for_update().get(ticket=locked)
    if rr.pickup_locked:
        return TransitionError(
            _("The pickup code was entered wrongly %(n)s times and is locked: issue a new code after "
              "checking the merchant's documents.") % {"n": rr.pickup_attempts},
            code="not_allowed",
        )
    if secrets.compare_digest(code, rr.pickup_code):
        return None
    rr.pickup_attempts += 1
    rr.save(update_fields=["pickup_attempts"])
    left = max(_max_attempts() - rr.pickup_attempts, 0)
    TicketEvent.objects.create(
        ticket=locked, from_status=locked.status, to_status=locked.status, actor=actor, is_public=False,
        note=_("Wrong pickup code entered (%(n)s of %(max)s).") % {"n": rr.pickup_attempts, "max": _max_attempts()},
    )
    return TransitionError(
        _("Please correct the fields marked below."),
        code="invalid",
        field_errors={
            "pickup_code": [
                _("This is not the merchant's pickup code (%(left)s attempts left).") % {"left": left}
            ]
        },
    )


def _apply(spec, locked, actor, cleaned, notify_kind):
    now = timezone.now()
    from_status = locked.status
    locked.status = spec.target
    locked.version += 1
    locked.status_changed_at = now
    update = ["status", "version", "status_changed_at", "updated_at"]
    note = cleaned["note"]
    target = spec.target

    if target == S.REMOTE_DIAGNOSIS and from_status == S.REPORTED:
        locked.agent = actor
        locked.agent_name = actor.display_name
        update += ["agent", "agent_name"]
    if target == S.REMOTE_DIAGNOSIS and from_status == S.RESOLVED_REMOTELY:
        # Reopened: the bank owes a fix again, on a fresh clock.
        locked.sla_due_at = sla.due_at(locked.priority, now)
        update.append("sla_due_at")
    if target == S.AWAITING_BRANCH:
        locked.branch = cleaned["branch"]
        update.append("branch")
    if target == S.AT_BRANCH:
        # One INSERT … ON CONFLICT (ticket) DO UPDATE: update_or_create costs two savepoints and a
        # locked read more, and the locked ticket already keeps a concurrent intake out.
        intake = RepairRequest(
            ticket=locked,
            branch_id=locked.branch_id,
            form_number=f"RR-{locked.service_order_no}",
            checked_tag_number=cleaned["tag_number"],
            checked_serial_number=cleaned["serial_number"],
            documents=cleaned["documents"],
            engineer=actor,
        )
        RepairRequest.objects.bulk_create(
            [intake], update_conflicts=True, unique_fields=["ticket"],
            update_fields=["branch", "form_number", "checked_tag_number", "checked_serial_number", "documents",
                           "engineer"],
        )
    if from_status == S.DIAGNOSING and target == S.REPAIRING:
        RepairRequest.objects.filter(ticket=locked).update(diagnosis=cleaned["diagnosis"])
        note = note or cleaned["diagnosis"]
    if target == S.NETWORK_TESTING:
        RepairRequest.objects.filter(ticket=locked).update(work_done=cleaned["work_done"], parts=cleaned["parts"])
        note = note or cleaned["work_done"]
    if from_status == S.NETWORK_TESTING:
        passed = target == S.READY_FOR_PICKUP
        NetworkTest.objects.create(ticket=locked, passed=passed, details=cleaned["details"], engineer=actor)
        if passed:
            RepairRequest.objects.filter(ticket=locked).update(pickup_code=_new_pickup_code(), pickup_attempts=0)
    if target == S.PICKED_UP:
        RepairRequest.objects.filter(ticket=locked).update(picked_up_at=now)
    if target in FaultTicket.FINAL_STATUSES:
        locked.closed_at = now
        update.append("closed_at")

    locked.save(update_fields=update)
    event = TicketEvent.objects.create(
        ticket=locked, from_status=from_status, to_status=target, actor=actor, note=note,
        is_public=spec.public, created_at=now,
    )
    _move_terminal(spec.terminal, locked, actor)
    _notify(locked, event, kind=notify_kind, actor=actor)
    return event


def _move_terminal(function_name, ticket, actor):
    if not function_name:
        return
    from terminals import services
    from terminals.models import Terminal

    terminal = Terminal.objects.get(pk=ticket.terminal_id)
    if terminal.status == TERMINAL_TARGET[function_name]:
        return
    try:
        getattr(services, function_name)(terminal=terminal, actor=actor, note=ticket.service_order_no)
    except services.TerminalError as exc:
        raise TransitionError(str(exc), code="not_allowed") from exc


# --- notifications --------------------------------------------------------------------------


def _context(ticket, event, *, for_merchant):
    branch = ticket.branch
    context = {
        "service_order_no": ticket.service_order_no,
        "terminal": ticket.terminal.serial_number,
        "tag_number": ticket.terminal.tag_number,
        "fault_type": ticket.fault_type,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "status": ticket.status,
        "agent_name": ticket.agent_name,
        "merchant": ticket.merchant.name,
        "note": event.note if (event.is_public or not for_merchant) else "",
        "is_public": bool(event.is_public),
    }
    if branch is not None:
        context.update(
            branch=branch.name, branch_code=branch.code, branch_address=branch.address,
            branch_phone=branch.phone, branch_hours=branch.hours,
        )
    return context


def _recipients(ticket, actor, *, merchant):
    """The active users told about a change of `ticket` (not `actor`), with their notification
    preferences, in one query: its agent, the engineer who took it in (or, while it waits for a
    branch, that branch's engineers) and, when `merchant`, the merchant's users."""
    intake = RepairRequest.objects.filter(ticket_id=ticket.pk)
    # A scalar subquery (not `pk__in`): each branch of the OR stays an index scan of the users.
    who = Q(pk=Subquery(intake.values("engineer_id")[:1]))
    if ticket.agent_id:
        who |= Q(pk=ticket.agent_id)
    if ticket.status == S.AWAITING_BRANCH and ticket.branch_id:
        who |= Q(branch_id=ticket.branch_id, role="engineer") & ~Exists(intake)
    if merchant:
        who |= Q(merchant_id=ticket.merchant_id)
    users = User.objects.filter(who, is_active=True).select_related("notification_preference").order_by("pk")
    if actor is not None:
        users = users.exclude(pk=actor.pk)
    return list(users)


def _notify(ticket, event, *, kind, actor):
    """Write the notifications of `event` in this transaction (the notifications area delivers them):
    the merchant's users see the public events, without internal notes; staff see every event."""
    users = _recipients(ticket, actor, merchant=event.is_public)
    audiences = []
    if event.is_public:
        merchant_users = [u for u in users if u.merchant_id == ticket.merchant_id]
        users = [u for u in users if u.merchant_id != ticket.merchant_id]
        audiences.append((merchant_users, _context(ticket, event, for_merchant=True)))
    audiences.append((users, _context(ticket, event, for_merchant=False)))
    notify_audiences(kind=kind, event_key=f"ticket-event:{event.pk}", audiences=audiences,
                     url=ticket.get_absolute_url())


# --- opening a ticket -----------------------------------------------------------------------


def next_service_order_no(now=None):
    """The next service-order number of today (Asia/Shanghai), e.g. SO20261124-0007.

    Must run inside the creating transaction: the day's counter row stays locked until commit,
    so concurrent creators queue up and a number is never handed out twice or reused.
    """
    day = timezone.localdate(now or timezone.now())
    counter, _created = ServiceOrderCounter.objects.get_or_create(day=day)
    counter = ServiceOrderCounter.objects.select_for_update().get(pk=counter.pk)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return f"SO{day:%Y%m%d}-{counter.last_number:04d}"


def default_priority(fault_type):
    return FaultTicket.Priority.HIGH if fault_type == FaultTicket.FaultType.CANNOT_ACCEPT_PAYMENT else FaultTicket.Priority.NORMAL


def create_ticket(*, terminal, actor, fault_type, symptoms, contact_window="", priority=None, source=None,
                  take=None):
    """Open a fault ticket on `terminal`; an agent logging a call also takes it (remote diagnosis)."""
    from terminals import services
    from terminals.models import Terminal

    role = role_of(actor)
    if role not in {"merchant", "agent", "admin", SYSTEM}:
        raise TransitionError(_("Only the merchant or a customer-service agent can report a fault."), code="forbidden")
    if role == "merchant" and terminal.merchant_id != actor.merchant_id:
        raise TransitionError(_("This terminal belongs to another merchant."), code="forbidden")
    errors = {}
    symptoms = str(symptoms or "").strip()
    if fault_type not in FaultTicket.FaultType.values:
        errors["fault_type"] = [_("Choose one of the fault types.")]
    if not symptoms:
        errors["symptoms"] = [_("Describe what the terminal does.")]
    elif len(symptoms) > NOTE_MAX:
        errors["symptoms"] = [_("At most %(n)s characters.") % {"n": NOTE_MAX}]
    priority = priority or default_priority(fault_type)
    if priority not in FaultTicket.Priority.values:
        errors["priority"] = [_("Choose one of the priorities.")]
    if errors:
        raise TransitionError(_("Please correct the fields marked below."), code="invalid", field_errors=errors)

    with transaction.atomic():
        # Locking the terminal queues two reports of the same terminal: the second sees the first.
        term = Terminal.objects.select_for_update().get(pk=terminal.pk)
        if term.merchant_id is None or term.status not in (Terminal.Status.ACTIVE, Terminal.Status.FAULTY):
            raise TransitionError(
                _("Terminal %(serial)s is %(status)s: only a terminal in service can have a fault ticket.")
                % {"serial": term.serial_number, "status": term.get_status_display()},
                code="invalid", field_errors={"terminal": [_("This terminal is not in service.")]},
            )
        existing = FaultTicket.objects.open().filter(terminal=term).first()
        if existing is not None:
            message = _("Terminal %(serial)s already has an open ticket, %(no)s: follow that one.") % {
                "serial": term.serial_number, "no": existing.service_order_no,
            }
            raise TransitionError(message, code="invalid", field_errors={"terminal": [message]})
        now = timezone.now()
        is_agent = role in {"agent", "admin"}
        try:
            with transaction.atomic():
                ticket = FaultTicket.objects.create(
                    service_order_no=next_service_order_no(now),
                    terminal=term,
                    merchant_id=term.merchant_id,
                    fault_type=fault_type,
                    symptoms=symptoms,
                    contact_window=str(contact_window or "").strip()[:100],
                    priority=priority,
                    source=source or (FaultTicket.Source.PHONE if is_agent else FaultTicket.Source.PORTAL),
                    reported_by=actor,
                    sla_due_at=sla.due_at(priority, now),
                    status_changed_at=now,
                )
        except IntegrityError as exc:
            raise TransitionError(_("This terminal already has an open ticket."), code="invalid") from exc
        event = TicketEvent.objects.create(
            ticket=ticket, from_status="", to_status=S.REPORTED, actor=actor, is_public=True, created_at=now,
        )
        if term.status == Terminal.Status.ACTIVE:
            services.mark_faulty(terminal=term, actor=actor, note=ticket.service_order_no)
        _notify(ticket, event, kind="ticket.status", actor=actor)
        if is_agent and take is not False:
            ticket_transition(ticket=ticket, to=S.REMOTE_DIAGNOSIS, actor=actor)
    return ticket


# --- other writes ---------------------------------------------------------------------------


def reissue_pickup_code(*, ticket, actor):
    """A new pickup code (after the merchant's documents were checked), e.g. once the old one locked."""
    with transaction.atomic():
        locked = _lock(ticket)
        spec = TABLE[(S.READY_FOR_PICKUP, S.PICKED_UP)]
        if locked.status != S.READY_FOR_PICKUP:
            raise TransitionError(_("A pickup code exists only while the terminal is ready for pickup."))
        refusal = _refusal(spec, locked, actor)
        if refusal:
            raise TransitionError(refusal, code="forbidden")
        RepairRequest.objects.filter(ticket=locked).update(pickup_code=_new_pickup_code(), pickup_attempts=0)
        locked.version += 1
        locked.save(update_fields=["version", "updated_at"])
        event = TicketEvent.objects.create(
            ticket=locked, from_status=locked.status, to_status=locked.status, actor=actor, is_public=True,
            note=_("A new pickup code was issued; the old one no longer works."),
        )
        _notify(locked, event, kind="ticket.status", actor=actor)
    ticket.version = locked.version
    return event


def add_comment(*, ticket, author, body, is_public=True):
    """A comment on the ticket; a merchant's comments are always public."""
    body = str(body or "").strip()
    if not body:
        raise TransitionError(_("Write a comment first."), code="invalid", field_errors={"body": [_("Write a comment first.")]})
    if len(body) > NOTE_MAX:
        raise TransitionError(_("At most %(n)s characters.") % {"n": NOTE_MAX}, code="invalid")
    if not author.is_staff_role:
        is_public = True
    with transaction.atomic():
        comment = TicketComment.objects.create(ticket=ticket, author=author, body=body, is_public=is_public)
        context = {"service_order_no": ticket.service_order_no, "terminal": ticket.terminal.serial_number,
                   "author": author.display_name, "comment": body}
        key = f"ticket-comment:{comment.pk}"
        if author.is_staff_role:
            if is_public:
                notify(kind="ticket.comment", event_key=key, url=ticket.get_absolute_url(), context=context,
                       recipients=User.objects.filter(merchant_id=ticket.merchant_id, is_active=True))
        else:
            notify(kind="ticket.comment", event_key=key, url=ticket.get_absolute_url(), context=context,
                   recipients=_recipients(ticket, author, merchant=False))
    return comment


def add_attachment(*, ticket, uploaded, content_type, actor, is_public=True):
    """Store a checked upload (a photo or a PDF) on the ticket."""
    if not actor.is_staff_role:
        is_public = True
    return TicketAttachment.objects.create(
        ticket=ticket, file=uploaded, content_type=content_type, original_name=uploaded.name[:255],
        size=uploaded.size, is_public=is_public, uploaded_by=actor,
    )


def auto_close_due_tickets(now=None):
    """Close tickets left resolved remotely or picked up for AUTO_CLOSE_DAYS; returns how many."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.TICKET_AUTO_CLOSE_DAYS)
    due = FaultTicket.objects.filter(
        status__in=(S.RESOLVED_REMOTELY, S.PICKED_UP), status_changed_at__lte=cutoff
    ).values_list("pk", "version")
    closed = 0
    for pk, version in list(due):
        try:
            ticket_transition(
                ticket=FaultTicket(pk=pk), to=S.CLOSED, actor=None, version=version,
                notify_kind="ticket.auto_closed",
            )
        except TransitionError:
            continue  # someone acted on it meanwhile
        closed += 1
    return closed
