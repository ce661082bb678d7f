"""The fault-ticket state machine (DESIGN.md, "Fault ticket states"), declared once, and every write.

`TRANSITIONS` is the table the pages, the API and the admin all read: from, to, who may make the
change, what it needs, whether its event is public, and what it does to the terminal.
`ticket_transition` is the one entry point that performs a transition; `create_ticket` opens one.
"""

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from notifications.services import notify, notify_audiences
from portal.accounts.models import Branch, User
from portal.core.numbering import next_number
from portal.core.workflow import SYSTEM, Field, StateMachine, Transition, WorkflowError, role_of
from repairs import sla
from repairs.models import (
    FaultTicket,
    Loan,
    NetworkTest,
    RepairRequest,
    Satisfaction,
    TicketAttachment,
    TicketComment,
    TicketEvent,
)
from terminals import services as terminal_services
from terminals.models import Terminal

S = FaultTicket.Status
STAFF_AGENT = frozenset({"agent", "admin"})
STAFF_ENGINEER = frozenset({"engineer", "admin"})
DOCUMENTS = RepairRequest.Document
NOTE_MAX = 4000

# Every input a ticket step takes, declared once: the page forms, the API serializer and `_clean`
# read these (names as DESIGN.md spells them for the API).
FIELDS = {
    "note": Field(gettext_lazy("Note"), "textarea", max_length=NOTE_MAX, aliases=("reason", "details")),
    "branch": Field(gettext_lazy("Branch the merchant should visit"), max_length=10,
                    help=gettext_lazy("A branch code, e.g. BR001.")),
    "tag_number": Field(gettext_lazy("Tag number on the device"), max_length=40,
                        help=gettext_lazy("Must match the terminal of the ticket.")),
    "serial_number": Field(gettext_lazy("Terminal number (serial) on the device"), max_length=40,
                           help=gettext_lazy("Must match the terminal of the ticket.")),
    "documents": Field(gettext_lazy("Documents presented"), "multiple", choices=DOCUMENTS,
                       required_message=gettext_lazy("Tick the documents the merchant presented.")),
    "diagnosis": Field(gettext_lazy("Diagnosis"), "textarea", max_length=NOTE_MAX, aliases=("note",)),
    "work_done": Field(gettext_lazy("Work done"), "textarea", max_length=NOTE_MAX, aliases=("note",)),
    "parts": Field(gettext_lazy("Parts replaced"), max_length=300),
    "test_passed": Field(gettext_lazy("Network test passed"), "bool",
                         help=gettext_lazy("From network_testing: true with ready_for_pickup, false with repairing.")),
    "pickup_code": Field(gettext_lazy("The merchant's pickup code"), max_length=12),
}


def T(source, target, roles, label, *, needs=(), optional=("note",), note_label=None, **options):
    labels = (("note", note_label),) if note_label else ()
    return Transition(sources=(source,), target=target, roles=frozenset(roles), label=label, needs=needs,
                      optional=optional, labels=labels, **options)


# The ticket's life (DESIGN.md "Fault ticket states"), declared once. `effect` names the
# terminals.services function that moves the terminal with the step.
TRANSITIONS = [
    T(S.REPORTED, S.REMOTE_DIAGNOSIS, STAFF_AGENT, gettext_lazy("Take the ticket")),
    T(S.REMOTE_DIAGNOSIS, S.RESOLVED_REMOTELY, STAFF_AGENT, gettext_lazy("Resolved remotely"),
      needs=("note",), effect="mark_working", style="success", note_label=gettext_lazy("What was done")),
    T(S.REMOTE_DIAGNOSIS, S.AWAITING_BRANCH, STAFF_AGENT, gettext_lazy("Escalate to a branch"),
      needs=("branch",), style="warning"),
    T(S.RESOLVED_REMOTELY, S.CLOSED, {"merchant", SYSTEM}, gettext_lazy("Confirm it works"), style="success"),
    T(S.RESOLVED_REMOTELY, S.REMOTE_DIAGNOSIS, {"merchant"}, gettext_lazy("Still broken"),
      effect="mark_faulty", style="danger", note_label=gettext_lazy("What is still wrong")),
    T(S.AWAITING_BRANCH, S.AT_BRANCH, STAFF_ENGINEER, gettext_lazy("Take in at the branch"),
      needs=("tag_number", "serial_number", "documents"), effect="mark_in_repair"),
    T(S.AT_BRANCH, S.DIAGNOSING, STAFF_ENGINEER, gettext_lazy("Start diagnosis")),
    T(S.DIAGNOSING, S.REPAIRING, STAFF_ENGINEER, gettext_lazy("Diagnosed: start the repair"),
      needs=("diagnosis",)),
    T(S.DIAGNOSING, S.UNREPAIRABLE, STAFF_ENGINEER, gettext_lazy("Unrepairable"),
      needs=("note",), effect="retire", style="danger", note_label=gettext_lazy("Reason")),
    T(S.REPAIRING, S.NETWORK_TESTING, STAFF_ENGINEER, gettext_lazy("Repaired: start the network test"),
      needs=("work_done",), optional=("parts", "note")),
    T(S.REPAIRING, S.UNREPAIRABLE, STAFF_ENGINEER, gettext_lazy("Unrepairable"),
      needs=("note",), effect="retire", style="danger", note_label=gettext_lazy("Reason")),
    T(S.NETWORK_TESTING, S.READY_FOR_PICKUP, STAFF_ENGINEER, gettext_lazy("Network test passed"),
      optional=("test_passed", "note"), style="success", note_label=gettext_lazy("Test details")),
    T(S.NETWORK_TESTING, S.REPAIRING, STAFF_ENGINEER, gettext_lazy("Network test failed"),
      needs=("note",), optional=("test_passed",), style="danger", note_label=gettext_lazy("What failed")),
    T(S.READY_FOR_PICKUP, S.PICKED_UP, STAFF_ENGINEER, gettext_lazy("Hand over to the merchant"),
      needs=("pickup_code",), effect="mark_working", style="success"),
    T(S.PICKED_UP, S.CLOSED, {"merchant", SYSTEM}, gettext_lazy("Confirm it works"), style="success"),
    T(S.UNREPAIRABLE, S.REPLACEMENT, {SYSTEM}, gettext_lazy("Replacement applied for")),
    T(S.REPLACEMENT, S.CLOSED, {SYSTEM}, gettext_lazy("Replacement activated")),
    *(
        T(source, S.CANCELLED, {"merchant", "agent", "admin"}, gettext_lazy("Cancel the ticket"),
          needs=("note",), effect="mark_working", style="outline-danger", note_label=gettext_lazy("Reason"))
        for source in (S.REPORTED, S.REMOTE_DIAGNOSIS, S.AWAITING_BRANCH)
    ),
]

# The terminal status each terminals.services function leads to (skipped when already there).
TERMINAL_TARGET = {
    "mark_faulty": "faulty",
    "mark_in_repair": "in_repair",
    "mark_working": "active",
    "retire": "retired",
}


def _scope(ticket, user, role):
    """A merchant acts on its own tickets; an engineer on those sent to its branch."""
    if role == "merchant" and ticket.merchant_id != user.merchant_id:
        return _("This ticket belongs to another merchant.")
    if role == "engineer" and (ticket.branch_id is None or ticket.branch_id != user.branch_id):
        return _("Only engineers of the branch the ticket was sent to can work on it.")
    return None


MACHINE = StateMachine(
    states=S,
    transitions=TRANSITIONS,
    fields=FIELDS,
    describe=lambda ticket: _("Ticket %(no)s") % {"no": ticket.service_order_no},
    scope=_scope,
)


def allowed_transitions(ticket, user):
    """The transitions `user` may make on `ticket` in its current state (for forms and buttons)."""
    return MACHINE.allowed(ticket, user)


# --- field checks ---------------------------------------------------------------------------


def _clean(spec, ticket, fields):
    """What the step needs, checked: the declared fields (portal.core.workflow), then what only
    the ticket can tell: the branch exists, the device in front of the engineer is this ticket's,
    the test result agrees with the step. Raises WorkflowError(invalid) listing every field."""

    def check(cleaned, errors):
        if cleaned.get("branch"):
            code = cleaned["branch"]
            cleaned["branch"] = Branch.objects.filter(code__iexact=code, is_active=True).first()
            if cleaned["branch"] is None:
                errors.setdefault("branch", [_("Choose one of the branches in the list.")])
        for name, real in (("tag_number", ticket.terminal.tag_number), ("serial_number", ticket.terminal.serial_number)):
            if cleaned.get(name) and cleaned[name].upper() != real.upper():
                errors.setdefault(name, [
                    _("This does not match the terminal of this ticket: check the device in front of you.")
                ])
        if cleaned.get("test_passed") is not None and cleaned["test_passed"] != (spec.target == S.READY_FOR_PICKUP):
            errors.setdefault("test_passed", [
                _("A passed test leads to ready for pickup, a failed one back to repairing.")
            ])

    if isinstance(fields.get("branch"), Branch):
        fields = {**fields, "branch": fields["branch"].code}
    return MACHINE.clean(spec, fields, check)


# --- the entry point ------------------------------------------------------------------------


def _new_pickup_code():
    return f"{secrets.randbelow(10**6):06d}"


def _max_attempts():
    return settings.PICKUP_CODE_MAX_ATTEMPTS


def ticket_transition(*, ticket, to, actor, **fields):
    """Move `ticket` to `to` as `actor` (None = the system); return the TicketEvent written.

    Locks the row, refuses a stale version, checks state, role and fields against MACHINE,
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
            raise WorkflowError(
                _("Ticket %(no)s changed while you were looking at it (it is now %(status)s): reload and try again.")
                % {"no": locked.service_order_no, "status": locked.get_status_display()},
                code="stale",
            )
        spec = MACHINE.check(locked, to, actor)
        cleaned = _clean(spec, locked, fields)

        if spec.target == S.PICKED_UP:
            _check_loaner_accounted_for(locked)
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


def _check_loaner_accounted_for(locked):
    """No pickup while the ticket's loaner is out: it is returned or recorded missing/damaged first."""
    loan = Loan.objects.out().filter(ticket=locked).first()
    if loan is not None:
        message = _("Loaner %(serial)s is still with the merchant: check it back in (or record it missing "
                    "or damaged) before the pickup.") % {"serial": loan.serial_number}
        raise WorkflowError(message, code="invalid", field_errors={"loaner": [message]})


def _check_pickup_code(locked, actor, code):
    rr = RepairRequest.objects.select_for_update().get(ticket=locked)
    if rr.pickup_locked:
        return WorkflowError(
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
    return WorkflowError(
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
    note = cleaned.get("note", "")
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
        NetworkTest.objects.create(ticket=locked, passed=passed, details=cleaned["note"], engineer=actor)
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
    _move_terminal(spec.effect, locked, actor)
    _notify(locked, event, kind=notify_kind, actor=actor)
    return event


def _move_terminal(function_name, ticket, actor):
    """The terminal follows its ticket (a refusal of the terminal's machine refuses the step)."""
    if not function_name:
        return
    terminal = Terminal.objects.get(pk=ticket.terminal_id)
    if terminal.status == TERMINAL_TARGET[function_name]:
        return
    getattr(terminal_services, function_name)(terminal=terminal, actor=actor, note=ticket.service_order_no)


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
    return next_number("SO", timezone.localdate(now or timezone.now()))


def default_priority(fault_type):
    return FaultTicket.Priority.HIGH if fault_type == FaultTicket.FaultType.CANNOT_ACCEPT_PAYMENT else FaultTicket.Priority.NORMAL


def create_ticket(*, terminal, actor, fault_type, symptoms, contact_window="", priority=None, source=None,
                  take=None):
    """Open a fault ticket on `terminal`; an agent logging a call also takes it (remote diagnosis)."""
    role = role_of(actor)
    if role not in {"merchant", "agent", "admin", SYSTEM}:
        raise WorkflowError(_("Only the merchant or a customer-service agent can report a fault."), code="forbidden")
    if role == "merchant" and terminal.merchant_id != actor.merchant_id:
        raise WorkflowError(_("This terminal belongs to another merchant."), code="forbidden")
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
        raise WorkflowError(_("Please correct the fields marked below."), code="invalid", field_errors=errors)

    with transaction.atomic():
        # Locking the terminal queues two reports of the same terminal: the second sees the first.
        term = Terminal.objects.select_for_update().get(pk=terminal.pk)
        if term.merchant_id is None or term.status not in (Terminal.Status.ACTIVE, Terminal.Status.FAULTY):
            raise WorkflowError(
                _("Terminal %(serial)s is %(status)s: only a terminal in service can have a fault ticket.")
                % {"serial": term.serial_number, "status": term.get_status_display()},
                code="invalid", field_errors={"terminal": [_("This terminal is not in service.")]},
            )
        existing = FaultTicket.objects.open().filter(terminal=term).first()
        if existing is not None:
            message = _("Terminal %(serial)s already has an open ticket, %(no)s: follow that one.") % {
                "serial": term.serial_number, "no": existing.service_order_no,
            }
            raise WorkflowError(message, code="invalid", field_errors={"terminal": [message]})
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
            raise WorkflowError(_("This terminal already has an open ticket."), code="invalid") from exc
        event = TicketEvent.objects.create(
            ticket=ticket, from_status="", to_status=S.REPORTED, actor=actor, is_public=True, created_at=now,
        )
        if term.status == Terminal.Status.ACTIVE:
            terminal_services.mark_faulty(terminal=term, actor=actor, note=ticket.service_order_no)
        _notify(ticket, event, kind="ticket.status", actor=actor)
        if is_agent and take is not False:
            ticket_transition(ticket=ticket, to=S.REMOTE_DIAGNOSIS, actor=actor)
    return ticket


# --- other writes ---------------------------------------------------------------------------


def reissue_pickup_code(*, ticket, actor):
    """A new pickup code (after the merchant's documents were checked), e.g. once the old one locked."""
    with transaction.atomic():
        locked = _lock(ticket)
        spec = MACHINE.transition(S.READY_FOR_PICKUP, S.PICKED_UP)
        if locked.status != S.READY_FOR_PICKUP:
            raise WorkflowError(_("A pickup code exists only while the terminal is ready for pickup."))
        refusal = MACHINE.refusal(spec, locked, actor)
        if refusal:
            raise WorkflowError(refusal, code="forbidden")
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
        raise WorkflowError(_("Write a comment first."), code="invalid", field_errors={"body": [_("Write a comment first.")]})
    if len(body) > NOTE_MAX:
        raise WorkflowError(_("At most %(n)s characters.") % {"n": NOTE_MAX}, code="invalid")
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


def can_rate(ticket, user):
    """Whether `user` may rate the repair of `ticket` (its own merchant, once it is over)."""
    return bool(
        user.is_authenticated and user.is_merchant and user.merchant_id == ticket.merchant_id
        and ticket.status in FaultTicket.RATABLE_STATUSES
    )


def rate_ticket(*, ticket, actor, rating, comment=""):
    """Record the merchant's 1–5 rating of a finished repair (once per ticket)."""
    if not (actor.is_merchant and actor.merchant_id == ticket.merchant_id):
        raise WorkflowError(_("Only the merchant of this ticket can rate the repair."), code="forbidden")
    if not 1 <= int(rating) <= 5:
        raise WorkflowError.invalid({"rating": [_("Choose a rating from 1 to 5.")]}, _("Choose a rating from 1 to 5."))
    with transaction.atomic():
        locked = FaultTicket.objects.select_for_update().get(pk=ticket.pk)
        if locked.status not in FaultTicket.RATABLE_STATUSES:
            raise WorkflowError(_("The repair can be rated once it is finished."), code="not_allowed")
        if Satisfaction.objects.filter(ticket=locked).exists():
            raise WorkflowError(_("This repair has already been rated."), code="not_allowed")
        try:
            with transaction.atomic():
                return Satisfaction.objects.create(
                    ticket=locked, rating=int(rating), comment=(comment or "").strip(), rated_by=actor
                )
        except IntegrityError as exc:  # a second tab won the race
            raise WorkflowError(_("This repair has already been rated."), code="not_allowed") from exc


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
        except WorkflowError:
            continue  # someone acted on it meanwhile
        closed += 1
    return closed
