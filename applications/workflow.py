"""Every write that changes an application: creation, documents, the review record and the state
machine. The machine is declared once (TRANSITIONS) and read by the pages, the API and the admin;
`application_transition` is the one entry point that moves an application between states."""

import datetime
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.db.models import DecimalField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from applications.models import (
    Application,
    ApplicationDocument,
    ApplicationEvent,
    ApplicationTerminal,
    DepositAccount,
    MonthlyVolume,
    add_months,
)
from notifications.services import notify
from portal.accounts.models import REVIEWER_ROLES
from portal.core.numbering import next_number
from portal.core.workflow import Field, StateMachine, Transition, WorkflowError, role_of
from repairs.models import FaultTicket
from repairs.workflow import ticket_transition
from terminals import services as terminal_services
from terminals.models import Terminal

S = Application.Status
MERCHANT = frozenset({"merchant"})
REVIEWERS = frozenset(REVIEWER_ROLES)  # reviewers and administrators
TEXT_MAX = 2000

# Every input an application step takes, declared once: the page forms, the API serializer and
# `application_transition` read these.
FIELDS = {
    "note": Field(gettext_lazy("Note"), "textarea", max_length=TEXT_MAX),
    "reason": Field(gettext_lazy("Reason (shown to the merchant)"), "textarea", max_length=TEXT_MAX,
                    aliases=("note",), required_message=gettext_lazy("Give a reason.")),
    "fee_plan": Field(gettext_lazy("Fee plan"), "choice", choices=Application.FeePlan,
                      help=gettext_lazy("Fixed at approval (default: the plan applied for).")),
    "contract_number": Field(gettext_lazy("Contract number"), max_length=40,
                             required_message=gettext_lazy("Enter the contract number.")),
    "terminal": Field(gettext_lazy("Terminals from stock"), "list", max_length=40,
                      help=gettext_lazy("In-stock serial numbers of the application's channel, as many as the quantity."),
                      aliases=("terminals",), required_message=gettext_lazy("Choose the terminals from stock.")),
    "training_notes": Field(gettext_lazy("Operator training (who was trained, on what)"), "textarea",
                            max_length=TEXT_MAX, required_message=gettext_lazy("Record which operators were trained.")),
    "training_date": Field(gettext_lazy("Training date"), "date", help=gettext_lazy("Default: today.")),
}


def T(sources, target, roles, label, fields=(), needs=(), **options):
    optional = tuple(f for f in fields if f not in needs)
    return Transition(sources=tuple(sources), target=target, roles=roles, label=label, needs=needs,
                      optional=optional, **options)


# The application's life, declared once (DESIGN.md "Application states").
TRANSITIONS = (
    T((S.DRAFT,), S.SUBMITTED, MERCHANT, gettext_lazy("Submit the application"), ("note",),
      help=gettext_lazy("All three documents must be uploaded first.")),
    T((S.SUBMITTED,), S.UNDER_REVIEW, REVIEWERS, gettext_lazy("Start the review"), ("note",)),
    T((S.UNDER_REVIEW,), S.NEEDS_INFO, REVIEWERS, gettext_lazy("Ask the merchant for information"),
      ("reason",), ("reason",), style="warning"),
    T((S.NEEDS_INFO,), S.SUBMITTED, MERCHANT, gettext_lazy("Resubmit"), ("note",),
      help=gettext_lazy("Upload the documents asked for and say what you changed.")),
    T((S.UNDER_REVIEW,), S.INSPECTION, REVIEWERS, gettext_lazy("Documents checked: go to interview and inspection"),
      ("note",), help=gettext_lazy("Every document must be verified before the interview and on-site inspection.")),
    T((S.INSPECTION,), S.APPROVED, REVIEWERS, gettext_lazy("Approve"), ("fee_plan", "note"),
      help=gettext_lazy("Needs the interview and on-site inspection recorded; the fee plan is fixed now.")),
    T((S.UNDER_REVIEW, S.INSPECTION), S.REJECTED, REVIEWERS, gettext_lazy("Reject"), ("reason",), ("reason",),
      style="danger"),
    T((S.APPROVED,), S.CONTRACT_SIGNED, REVIEWERS, gettext_lazy("Record the signed contract"),
      ("contract_number", "note"), ("contract_number",)),
    T((S.CONTRACT_SIGNED,), S.DEVICE_ASSIGNED, REVIEWERS, gettext_lazy("Assign terminals from stock"),
      ("terminal", "note"), ("terminal",),
      help=gettext_lazy("In-stock terminals of the application's channel; they become pending activation for this merchant.")),
    T((S.DEVICE_ASSIGNED,), S.ACTIVATED, REVIEWERS, gettext_lazy("Activate the service"),
      ("training_notes", "training_date", "note"), ("training_notes",),
      help=gettext_lazy("Records service activation and operator training; the terminals become active. "
                        "For a replacement, the old terminal must be deregistered or destroyed first.")),
    T((S.DRAFT, S.SUBMITTED, S.NEEDS_INFO, S.UNDER_REVIEW, S.INSPECTION), S.WITHDRAWN, MERCHANT,
      gettext_lazy("Withdraw the application"), ("note",), style="outline-danger",
      confirm=gettext_lazy("Withdraw this application? This cannot be undone.")),
)


def _scope(application, user, role):
    """A merchant acts on its own applications only."""
    if role == "merchant" and user.merchant_id != application.merchant_id:
        return _("This application belongs to another merchant.")
    return None


MACHINE = StateMachine(
    states=S,
    transitions=TRANSITIONS,
    fields=FIELDS,
    describe=lambda application: _("Application %(number)s") % {"number": application.number},
    scope=_scope,
)

# States in which documents may be uploaded (before the interview and inspection).
UPLOAD_STATES = (S.DRAFT, S.SUBMITTED, S.NEEDS_INFO, S.UNDER_REVIEW)
REQUIRED_DOCUMENTS = tuple(ApplicationDocument.Kind.values)


def allowed_transitions(application, user):
    """The transitions `user` may make now, in table order (what the forms and API offer)."""
    return MACHINE.allowed(application, user)


def current_documents(application, documents=None):
    """The latest upload of each required kind ({kind: document or None})."""
    docs = documents if documents is not None else application.documents.all()
    latest = {}
    for doc in sorted(docs, key=lambda d: (d.uploaded_at, d.pk), reverse=True):
        latest.setdefault(doc.kind, doc)
    return {kind: latest.get(kind) for kind in REQUIRED_DOCUMENTS}


# --- numbering and creation -------------------------------------------------------------------


@transaction.atomic
def create_application(*, actor, kind, channel, fee_plan, quantity=1, ticket=None, remarks=""):
    """A merchant's new application (draft). A replacement takes its ticket to `replacement`."""
    if role_of(actor) != "merchant":
        raise WorkflowError(_("Only a merchant can apply for a terminal."), code="forbidden")
    errors = {}
    if kind not in Application.Kind.values:
        errors["kind"] = _("Choose new terminal or replacement.")
    if fee_plan not in Application.FeePlan.values:
        errors["fee_plan"] = _("Choose a fee plan.")
    if channel is None or not channel.is_active:
        errors["channel"] = _("Choose an active channel.")
    try:
        quantity = int(quantity)
    except (TypeError, ValueError):
        quantity = 0
    if not 1 <= quantity <= 20:
        errors["quantity"] = _("Apply for 1 to 20 terminals.")
    locked_ticket = None
    if kind == Application.Kind.REPLACEMENT:
        if ticket is None:
            errors["ticket"] = _("A replacement starts from the unrepairable fault ticket.")
        else:
            locked_ticket = (
                FaultTicket.objects.select_for_update(of=("self",))
                .select_related("terminal")
                .filter(pk=ticket.pk)
                .first()
            )
            if locked_ticket is None or locked_ticket.merchant_id != actor.merchant_id:
                errors["ticket"] = _("No such fault ticket.")
            elif locked_ticket.status not in (FaultTicket.Status.UNREPAIRABLE, FaultTicket.Status.REPLACEMENT):
                errors["ticket"] = _("Only a terminal found unrepairable can be replaced (this ticket is %(status)s).") % {
                    "status": locked_ticket.get_status_display()
                }
            elif Application.objects.filter(ticket=locked_ticket).exclude(
                status__in=(S.REJECTED, S.WITHDRAWN)
            ).exists():
                errors["ticket"] = _("This ticket already has a replacement application.")
        if quantity != 1 and "quantity" not in errors:
            errors["quantity"] = _("A replacement is for exactly one terminal.")
    elif ticket is not None:
        errors["ticket"] = _("Only a replacement is linked to a fault ticket.")
    if errors:
        raise WorkflowError(_("Please correct the application."), code="invalid", field_errors=errors)

    application = Application(
        number=next_number("AP"),
        merchant_id=actor.merchant_id,
        kind=kind,
        ticket=locked_ticket,
        channel=channel,
        quantity=quantity,
        remarks=remarks,
        created_by=actor,
    )
    application.fix_plan(fee_plan)
    application.save()
    _event(application, actor=actor, to=S.DRAFT, note=remarks)
    if locked_ticket is not None and locked_ticket.status == locked_ticket.Status.UNREPAIRABLE:
        _ticket_transition(
            locked_ticket, "replacement",
            _("Replacement application %(number)s filed.") % {"number": application.number},
        )
    return application


def _ticket_transition(ticket, to, note):
    """Move the replaced terminal's ticket as the system; a refusal refuses our change too."""
    try:
        return ticket_transition(ticket=ticket, to=to, actor=None, note=note)
    except WorkflowError as exc:
        raise WorkflowError(exc.message, code="not_allowed") from exc


# --- documents ----------------------------------------------------------------------------


@transaction.atomic
def add_document(*, application, kind, uploaded, content_type, actor):
    """Store a checked upload (see portal.core.uploads.check_upload) as the current `kind` document."""
    locked = Application.objects.select_for_update().get(pk=application.pk)
    role = role_of(actor)
    if role not in {"merchant", *REVIEWERS} or (role == "merchant" and actor.merchant_id != locked.merchant_id):
        raise WorkflowError(_("You cannot add documents to this application."), code="forbidden")
    if locked.status not in UPLOAD_STATES:
        raise WorkflowError(
            _("Documents can no longer be changed: the application is %(status)s.")
            % {"status": locked.get_status_display()},
            code="not_allowed",
        )
    if kind not in REQUIRED_DOCUMENTS:
        raise WorkflowError(
            _("Choose which document this is."), code="invalid", field_errors={"kind": _("Unknown document.")}
        )
    doc = ApplicationDocument.objects.create(
        application=locked,
        kind=kind,
        file=uploaded,
        content_type=content_type,
        original_name=uploaded.name[:255],
        size=uploaded.size,
        uploaded_by=actor,
    )
    _event(locked, actor=actor, kind=ApplicationEvent.Kind.DOCUMENT, action=ApplicationEvent.Action.UPLOADED,
           subject=kind)
    _touch(locked)
    return doc


@transaction.atomic
def judge_document(*, document, verdict, actor, reason=""):
    """A reviewer's verdict on one document: verified, or rejected with a reason."""
    # The application first, as every other write does, then the document.
    application = Application.objects.select_for_update().get(pk=document.application_id)
    locked = ApplicationDocument.objects.select_for_update().get(pk=document.pk)
    if role_of(actor) not in REVIEWERS:
        raise WorkflowError(_("Only a reviewer checks documents."), code="forbidden")
    if application.status != S.UNDER_REVIEW:
        raise WorkflowError(_("Documents are checked while the application is under review."), code="not_allowed")
    if current_documents(application)[locked.kind] != locked:
        raise WorkflowError(_("A newer file of this document was uploaded: check that one."), code="not_allowed")
    reason = (reason or "").strip()
    if verdict not in (ApplicationDocument.Verdict.VERIFIED, ApplicationDocument.Verdict.REJECTED):
        raise WorkflowError(_("Verify or reject the document."), code="invalid",
                               field_errors={"verdict": _("Verify or reject the document.")})
    if verdict == ApplicationDocument.Verdict.REJECTED and not reason:
        raise WorkflowError(_("Say why the document is rejected."), code="invalid",
                               field_errors={"reason": _("Say why the document is rejected.")})
    locked.verdict = verdict
    locked.verdict_reason = reason if verdict == ApplicationDocument.Verdict.REJECTED else ""
    locked.verdict_by = actor
    locked.verdict_at = timezone.now()
    locked.save(update_fields=["verdict", "verdict_reason", "verdict_by", "verdict_at"])
    _event(application, actor=actor, kind=ApplicationEvent.Kind.DOCUMENT, subject=locked.kind,
           action=verdict, note=locked.verdict_reason)
    _touch(application, reviewer=actor)
    return locked


# --- review record ------------------------------------------------------------------------


@transaction.atomic
def record_inspection(*, application, actor, interview_date=None, interview_notes="",
                      inspection_date=None, inspection_notes=""):
    """The interview and on-site inspection record (while the application is in `inspection`)."""
    locked = Application.objects.select_for_update().get(pk=application.pk)
    if role_of(actor) not in REVIEWERS:
        raise WorkflowError(_("Only a reviewer records the inspection."), code="forbidden")
    if locked.status != S.INSPECTION:
        raise WorkflowError(_("The inspection is recorded while the application is at interview and inspection."),
                               code="not_allowed")
    errors = _inspection_errors(interview_date, interview_notes, inspection_date, inspection_notes)
    if errors:
        raise WorkflowError(_("Please complete the inspection record."), code="invalid", field_errors=errors)
    locked.interview_date, locked.interview_notes = interview_date, interview_notes.strip()
    locked.inspection_date, locked.inspection_notes = inspection_date, inspection_notes.strip()
    locked.reviewer = actor
    locked.save(update_fields=["interview_date", "interview_notes", "inspection_date", "inspection_notes",
                               "reviewer", "updated_at"])
    _event(locked, actor=actor, kind=ApplicationEvent.Kind.RECORD, action=ApplicationEvent.Action.INSPECTION,
           is_public=False,
           note=f"{interview_date:%Y-%m-%d} · {interview_notes.strip()}\n{inspection_date:%Y-%m-%d} · "
                f"{inspection_notes.strip()}")
    for field in ("interview_date", "interview_notes", "inspection_date", "inspection_notes"):
        setattr(application, field, getattr(locked, field))
    return locked


def _inspection_errors(interview_date, interview_notes, inspection_date, inspection_notes):
    errors = {}
    today = timezone.localdate()
    for name, value in (("interview_date", interview_date), ("inspection_date", inspection_date)):
        if not isinstance(value, date):
            errors[name] = _("Enter the date.")
        elif value > today:
            errors[name] = _("The date cannot be in the future.")
    if not (inspection_notes or "").strip():
        errors["inspection_notes"] = _("Describe what the on-site inspection found.")
    return errors


@transaction.atomic
def record_old_terminal_deregistration(*, application, actor, method, certificate_number, witness, date):
    """Record how the replaced terminal left service (terminals.services.deregister)."""
    if role_of(actor) not in REVIEWERS:
        raise WorkflowError(_("Only a reviewer records the deregistration."), code="forbidden")
    locked = Application.objects.select_for_update(of=("self",)).select_related("ticket__terminal").get(pk=application.pk)
    if locked.kind != Application.Kind.REPLACEMENT or locked.ticket_id is None:
        raise WorkflowError(_("Only a replacement has an old terminal to deregister."), code="not_allowed")
    if locked.status not in (S.APPROVED, S.CONTRACT_SIGNED, S.DEVICE_ASSIGNED):
        raise WorkflowError(_("The old terminal is deregistered once the replacement is approved."),
                               code="not_allowed")
    errors = {}
    if not (certificate_number or "").strip():
        errors["certificate_number"] = _("Enter the certificate number.")
    if not (witness or "").strip():
        errors["witness"] = _("Enter who witnessed it.")
    if not isinstance(date, datetime.date):
        errors["date"] = _("Enter the date.")
    if errors:
        raise WorkflowError(_("Please complete the deregistration record."), code="invalid", field_errors=errors)
    try:
        record = terminal_services.deregister(
            terminal=locked.ticket.terminal, method=method, certificate_number=certificate_number.strip(),
            witness=witness.strip(), date=date, actor=actor,
            note=_("Replaced by application %(number)s.") % {"number": locked.number},
        )
    except WorkflowError as exc:
        raise WorkflowError(str(exc), code="not_allowed") from exc
    _event(locked, actor=actor, kind=ApplicationEvent.Kind.RECORD, action=ApplicationEvent.Action.DEREGISTRATION,
           subject=record.method,
           note=f"{locked.ticket.terminal.serial_number} · {record.certificate_number} · {record.witness}")
    return record


# --- the state machine --------------------------------------------------------------------


@transaction.atomic
def application_transition(*, application, to, actor, **fields):
    """Move `application` to `to` for `actor`, or raise WorkflowError and change nothing.

    Fields (FIELDS): note; reason (needs_info, rejected; the note is taken when it is missing);
    fee_plan (approved); contract_number (contract_signed); terminal — a serial number or a list
    of them, as many as the quantity (device_assigned); training_notes, training_date (activated).
    Returns the ApplicationEvent.
    """
    locked = (
        Application.objects.select_for_update(of=("self",))
        .select_related("merchant", "channel")
        .get(pk=application.pk)
    )
    transition = MACHINE.check(locked, to, actor)
    changes = {}
    check = _CHECKS.get(to)
    cleaned = MACHINE.clean(transition, fields, (lambda c, e: check(locked, c, e, changes)) if check else None)
    note = cleaned.get("note", "")
    reason = cleaned.get("reason", "")

    from_status = locked.status
    now = timezone.now()
    locked.status = to
    locked.status_changed_at = now
    update = ["status", "status_changed_at", "updated_at"]
    if reason:
        locked.decision_reason = reason
        update.append("decision_reason")
    if to == S.SUBMITTED:
        locked.submitted_at = locked.submitted_at or now
        update.append("submitted_at")
    if role_of(actor) in REVIEWERS:
        locked.reviewer = actor
        update.append("reviewer")
    for field, value in changes.items():
        if not field.startswith("_"):
            setattr(locked, field, value)
            update.append(field)
    locked.save(update_fields=list(dict.fromkeys(update)))

    after = _AFTER.get(to)
    if after:
        after(locked, actor, changes)
    event = _event(locked, actor=actor, from_status=from_status, to=to, note=reason or note)
    _notify_status(locked, event, actor)
    for field in update:
        setattr(application, field, getattr(locked, field))
    return event


# What only the application can tell, per target: check(app, cleaned, errors, changes) adds errors
# ({field: [message]}) and the changes the step makes (a "_" name is for the step's after-effect).


def _check_submit(app, cleaned, errors, changes):
    docs = current_documents(app)
    missing = [ApplicationDocument.Kind(k).label for k, d in docs.items() if d is None]
    rejected = [ApplicationDocument.Kind(k).label for k, d in docs.items()
                if d is not None and d.verdict == ApplicationDocument.Verdict.REJECTED]
    if missing:
        errors["documents"] = [_("Upload these documents first: %(list)s.") % {"list": ", ".join(map(str, missing))}]
    elif rejected:
        errors["documents"] = [_("Upload a new file for these rejected documents: %(list)s.") % {
            "list": ", ".join(map(str, rejected))}]


def _check_documents_verified(app, cleaned, errors, changes):
    docs = current_documents(app)
    if any(d is None or d.verdict != ApplicationDocument.Verdict.VERIFIED for d in docs.values()):
        errors["documents"] = [_("Every document must be verified first.")]


def _check_approve(app, cleaned, errors, changes):
    _check_documents_verified(app, cleaned, errors, changes)
    if not (app.interview_date and app.inspection_date and app.inspection_notes):
        errors["inspection"] = [_("Record the interview and the on-site inspection first.")]
    if "fee_plan" in errors:
        return
    # The plan is fixed now, with the terms in force today.
    app.fix_plan(cleaned.get("fee_plan") or app.fee_plan)
    changes.update(fee_plan=app.fee_plan, fee_amount=app.fee_amount, deposit_target=app.deposit_target,
                   deposit_months=app.deposit_months)


def _check_contract(app, cleaned, errors, changes):
    number = cleaned.get("contract_number")
    if not number or "contract_number" in errors:
        return
    if Application.objects.filter(contract_number=number).exclude(pk=app.pk).exists():
        errors["contract_number"] = [_("This contract number is already used by another application.")]
    else:
        changes.update(contract_number=number, contract_signed_on=timezone.localdate())


def _check_assign(app, cleaned, errors, changes):
    if "terminal" in errors:
        return
    serials = cleaned.get("terminal") or []
    if len(serials) != app.quantity:
        errors["terminal"] = [_("Choose %(count)s terminal(s) from stock.") % {"count": app.quantity}]
        return
    found = {t.serial_number: t for t in Terminal.objects.select_for_update().filter(serial_number__in=serials)}
    problems = []
    for serial in serials:
        t = found.get(serial)
        if t is None:
            problems.append(_("%(serial)s does not exist.") % {"serial": serial})
        elif t.status != Terminal.Status.IN_STOCK or t.merchant_id not in (None, app.merchant_id):
            problems.append(_("%(serial)s is not in stock.") % {"serial": serial})
        elif t.channel_id != app.channel_id:
            problems.append(_("%(serial)s belongs to another channel.") % {"serial": serial})
    if problems:
        errors["terminal"] = problems
    else:
        changes["_terminals"] = [found[s] for s in serials]


def _check_activate(app, cleaned, errors, changes):
    training_date = cleaned.get("training_date") or timezone.localdate()
    if "training_date" not in errors and training_date > timezone.localdate():
        errors["training_date"] = [_("The date cannot be in the future.")]
    if app.kind == Application.Kind.REPLACEMENT and app.ticket_id:
        old = Terminal.objects.get(pk=app.ticket.terminal_id)
        if not old.deregistrations.exists():
            errors["deregistration"] = [_(
                "The old terminal %(serial)s has no deregistration record yet: record its return or "
                "destruction before activating the replacement."
            ) % {"serial": old.serial_number}]
    if not errors:
        changes.update(training_notes=cleaned["training_notes"], training_date=training_date,
                       activated_on=timezone.localdate(), activation_notes=cleaned.get("note", ""))


_CHECKS = {
    S.SUBMITTED: _check_submit,
    S.INSPECTION: _check_documents_verified,
    S.APPROVED: _check_approve,
    S.CONTRACT_SIGNED: _check_contract,
    S.DEVICE_ASSIGNED: _check_assign,
    S.ACTIVATED: _check_activate,
}


def _after_assign(app, actor, changes):
    for terminal in changes["_terminals"]:
        try:
            terminal_services.issue_to_merchant(
                terminal=terminal, merchant=app.merchant, actor=actor,
                note=_("Assigned to application %(number)s.") % {"number": app.number},
            )
        except WorkflowError as exc:
            raise WorkflowError(str(exc), code="invalid", field_errors={"terminal": [str(exc)]}) from exc
        ApplicationTerminal.objects.create(application=app, terminal=terminal, assigned_by=actor)


def _after_activate(app, actor, changes):
    for terminal in Terminal.objects.filter(applications=app).order_by("pk"):
        try:
            terminal_services.activate(
                terminal=terminal, actor=actor,
                note=_("Activated by application %(number)s.") % {"number": app.number},
            )
        except WorkflowError as exc:
            raise WorkflowError(str(exc), code="not_allowed") from exc
    if app.fee_plan == Application.FeePlan.DEPOSIT:
        DepositAccount.objects.create(
            application=app,
            amount=app.fee_amount,
            target=app.deposit_target,
            started_on=app.activated_on,
            deadline=add_months(app.activated_on, app.deposit_months or 0),
        )
    if app.kind == Application.Kind.REPLACEMENT and app.ticket_id:
        ticket = FaultTicket.objects.select_for_update().get(pk=app.ticket_id)
        if ticket.status == FaultTicket.Status.REPLACEMENT:
            _ticket_transition(
                ticket, "closed",
                _("Replacement terminal activated (application %(number)s); the old terminal is deregistered.")
                % {"number": app.number},
            )


_AFTER = {S.DEVICE_ASSIGNED: _after_assign, S.ACTIVATED: _after_activate}


# --- deposit volumes ----------------------------------------------------------------------


@transaction.atomic
def record_volume(*, terminal, month, amount, actor):
    """Store (or correct) a terminal's card volume for one month; flags the deposit refund when the
    application's terminals reach the target before the deadline."""
    if actor is None or not actor.is_staff_role:
        raise WorkflowError(_("Only bank staff record card volumes."), code="forbidden")
    month = month.replace(day=1)
    errors = {}
    if month > timezone.localdate():
        errors["month"] = _("The month cannot be in the future.")
    if amount is None or amount < 0:
        errors["amount"] = _("Enter a volume of zero or more.")
    if errors:
        raise WorkflowError(next(iter(errors.values())), code="invalid", field_errors=errors)
    volume, _created = MonthlyVolume.objects.update_or_create(
        terminal=terminal, month=month, defaults={"amount": amount, "recorded_by": actor}
    )
    account = (
        DepositAccount.objects.select_for_update(of=("self",))
        .select_related("application")
        .filter(application__assignments__terminal=terminal)
        .first()
    )
    if account is not None and account.eligible_on is None:
        progress = deposit_progress(account)
        if progress["eligible"]:
            account.eligible_on = timezone.localdate()
            account.save(update_fields=["eligible_on"])
            app = account.application
            notify(
                kind="deposit.eligible",
                event_key=f"deposit-eligible:{account.pk}",
                recipients=list(app.merchant.users.all()),
                context={"application_number": app.number, "amount": str(account.amount),
                         "target": str(account.target), "total": str(progress["total"])},
                url=app.get_absolute_url(),
            )
    return volume


@transaction.atomic
def refund_deposit(*, application, actor, note=""):
    """Record that an eligible deposit was paid back to the merchant (once)."""
    if role_of(actor) not in REVIEWERS:
        raise WorkflowError(_("Only a reviewer records a deposit refund."), code="forbidden")
    account = DepositAccount.objects.select_for_update().filter(application=application).first()
    if account is None:
        raise WorkflowError(_("This application has no deposit."), code="not_allowed")
    if account.refunded:
        raise WorkflowError(_("The deposit was already refunded."), code="not_allowed")
    if not deposit_progress(account)["eligible"]:
        raise WorkflowError(_("The volume target has not been reached: the deposit cannot be refunded."),
                               code="not_allowed")
    account.refunded = True
    account.refunded_at = timezone.now()
    account.eligible_on = account.eligible_on or timezone.localdate()
    account.save(update_fields=["refunded", "refunded_at", "eligible_on"])
    event = _event(application, actor=actor, kind=ApplicationEvent.Kind.RECORD,
                   action=ApplicationEvent.Action.REFUND, note=note)
    _notify_status(application, event, actor)
    return account


def _counted_months(first_month, deadline):
    """Months that count toward the target: from the activation month to the deadline."""
    return Q(month__gte=first_month, month__lt=deadline)


def counted_months_filter(account):
    return _counted_months(account.started_on.replace(day=1), account.deadline)


def with_counted_volume(queryset, name, *, application="pk", started_on="deposit__started_on",
                        deadline="deposit__deadline"):
    """`queryset` with each row annotated `name`: the volume counting toward its deposit's target.
    The keywords name the row's application, activation date and deadline (by default, a query of
    applications). The same months as counted_months_filter; 0 when nothing is recorded."""
    queryset = queryset.annotate(counted_from=TruncMonth(started_on))
    months = MonthlyVolume.objects.filter(_counted_months(OuterRef("counted_from"), OuterRef(deadline)),
                                          terminal__applications=OuterRef(application))
    total = months.order_by().values("terminal__applications").annotate(total=Sum("amount")).values("total")[:1]
    money = DecimalField(max_digits=16, decimal_places=2)
    return queryset.annotate(**{name: Coalesce(Subquery(total, output_field=money), Value(Decimal("0")),
                                               output_field=money)})


def deposit_progress(account, total=None):
    """Progress of a deposit toward its refund: total, percent, eligible, expired, remaining."""
    if total is None:
        total = (
            MonthlyVolume.objects.filter(terminal__applications=account.application_id)
            .filter(counted_months_filter(account))
            .aggregate(s=Sum("amount"))["s"]
        ) or 0
    target = account.target or 1
    eligible = total >= account.target
    expired = not eligible and timezone.localdate() > account.deadline
    percent = min(100, int(total * 100 / target))
    return {
        "total": total,
        "target": account.target,
        "percent": percent,
        "remaining": max(account.target - total, 0),
        "eligible": eligible,
        "expired": expired,
        "deadline": account.deadline,
    }


# --- helpers ------------------------------------------------------------------------------


def _touch(application, reviewer=None):
    fields = ["updated_at"]
    if reviewer is not None:
        application.reviewer = reviewer
        fields.append("reviewer")
    application.save(update_fields=fields)


def _event(application, *, actor, to="", from_status="", note="", kind=ApplicationEvent.Kind.STATUS,
           action="", subject="", is_public=True):
    return ApplicationEvent.objects.create(
        application=application, kind=kind, from_status=from_status, to_status=to, actor=actor,
        note=note, action=action, subject=subject, is_public=is_public,
    )


def _notify_status(application, event, actor):
    """The merchant's users always; the reviewer in charge when someone else made the change."""
    recipients = list(application.merchant.users.filter(is_active=True))
    if application.reviewer_id and application.reviewer_id != getattr(actor, "pk", None):
        recipients.append(application.reviewer)
    notify(
        kind="application.status",
        event_key=f"application-event:{event.pk}",
        recipients=recipients,
        context={
            "application_number": application.number,
            "kind": application.kind,
            "from_status": event.from_status,
            "to_status": event.to_status,
            "note": event.note,
            # Delivery shows the note to the merchant only when the event is public.
            "is_public": bool(event.is_public),
            "merchant_name": application.merchant.name,
            "channel": application.channel.name,
        },
        url=application.get_absolute_url(),
    )
