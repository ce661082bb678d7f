"""Ticket pages for merchants, agents and engineers. Thin: forms check, the workflow acts."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal.accounts.selectors import document_checklist
from portal.core.pagination import paginate, querystring_without_page
from portal.core.roles import role_required
from repairs import selectors, workflow
from repairs.forms import AttachmentForm, CommentForm, LogCallForm, ReportForm, TransitionForm
from repairs.models import FaultTicket, TicketAttachment
from repairs.workflow import TransitionError

S = FaultTicket.Status


def _nothing_changed():
    return _("Nothing was changed.")


def _default_queue(user):
    if user.is_merchant:
        return "open"
    if user.is_agent:
        return "new"
    return "open" if not user.is_engineer else ""


@login_required
def ticket_list(request):
    """The user's queue: a merchant's own tickets, an agent's new/mine/overdue, an engineer's branch by stage."""
    user = request.user
    name = request.GET.get("queue", _default_queue(user))
    status = request.GET.get("status", "")
    q = request.GET.get("q", "")
    page = paginate(request, selectors.rows(selectors.queue(user, name, status=status, q=q)))
    return render(
        request,
        "repairs/ticket_list.html",
        {
            "page": page,
            "queue": name,
            "status": status,
            "q": q,
            "counts": None if user.is_merchant else selectors.queue_counts(user),  # merchants' tabs show none
            "qs": querystring_without_page(request),
        },
    )


@role_required("merchant")
def report(request):
    """A merchant reports a fault on one of its terminals."""
    user = request.user
    if user.merchant_id is None:
        raise PermissionDenied  # an administrator without a merchant logs calls instead
    initial = {}
    if request.GET.get("terminal"):
        initial["terminal"] = request.GET["terminal"]
    form = ReportForm(request.POST or None, user=user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            ticket = workflow.create_ticket(
                terminal=data["terminal"], actor=user, fault_type=data["fault_type"],
                symptoms=data["symptoms"], contact_window=data["contact_window"],
            )
        except TransitionError as exc:
            _form_errors(form, exc)
        else:
            messages.success(
                request, _("Fault reported: your service-order number is %(no)s.") % {"no": ticket.service_order_no}
            )
            return redirect(ticket)
    return render(
        request,
        "repairs/report.html",
        {"form": form, "checklist": document_checklist(user.merchant), "merchant": user.merchant},
        status=400 if form.is_bound and form.errors else 200,
    )


@role_required("agent", "admin")
def log_call(request):
    """An agent logs a phone call: find the merchant or terminal, then the fault on that terminal."""
    from terminals.models import Terminal

    user = request.user
    q = request.GET.get("q", "").strip()
    serial = request.POST.get("terminal") or request.GET.get("terminal")
    terminal = None
    if serial:
        terminal = get_object_or_404(
            Terminal.objects.visible_to(user).select_related("merchant").filter(merchant__isnull=False),
            serial_number=serial,
        )
    form = None
    if terminal is not None:
        form = LogCallForm(request.POST or None, merchant=terminal.merchant, initial={"terminal": terminal.serial_number})
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                ticket = workflow.create_ticket(
                    terminal=terminal, actor=user, fault_type=data["fault_type"], symptoms=data["symptoms"],
                    contact_window=data["contact_window"], priority=data["priority"],
                )
            except TransitionError as exc:
                _form_errors(form, exc)
            else:
                return redirect(f"{ticket.get_absolute_url()}?logged=1")
    elif request.method == "POST":
        messages.error(request, _("Choose the caller's terminal first."))
    return render(
        request,
        "repairs/log_call.html",
        {
            "q": q,
            "results": selectors.terminals_for_call(user, q) if q else None,
            "terminal": terminal,
            "form": form,
            "open_tickets": selectors.terminal_tickets(terminal, user).filter(
                status__in=[s for s in S.values if s not in FaultTicket.FINAL_STATUSES]
            ) if terminal else [],
        },
        status=400 if form is not None and form.is_bound and form.errors else 200,
    )


def _form_errors(form, exc):
    for field, errors in exc.field_errors.items():
        for error in errors:
            form.add_error(field if field in form.fields else None, error)
    if not exc.field_errors:
        form.add_error(None, exc.message)


def _stepper(ticket, events):
    """The stages the merchant follows: remote diagnosis → branch → network test → pickup, or replacement."""
    reached = {e.to_status for e in events} | {ticket.status}
    replacement = bool(reached & {S.UNREPAIRABLE, S.REPLACEMENT})
    remote_only = ticket.branch_id is None and ticket.status in (S.RESOLVED_REMOTELY, S.CLOSED, S.CANCELLED)
    keys = ["remote"]
    if not remote_only:
        keys += ["branch", "replacement"] if replacement else ["branch", "test", "pickup"]
    labels = {key: label for key, label, _statuses in workflow.STAGES}
    stage_of = {status: key for key, _label, statuses in workflow.STAGES for status in statuses}
    keys.append("done")
    labels["done"] = _("Cancelled") if ticket.status == S.CANCELLED else _("Closed")
    current = "done" if ticket.status in FaultTicket.FINAL_STATUSES else stage_of.get(ticket.status, "remote")
    steps, seen_current = [], False
    for key in keys:
        if key == current:
            state, seen_current = ("done" if key == "done" else "current"), True
        else:
            state = "todo" if seen_current else "done"
        steps.append({"key": key, "label": labels[key], "state": state})
    return steps


def _detail_context(request, ticket, *, bound=None, comment_form=None, attachment_form=None):
    user = request.user
    timeline = selectors.timeline(ticket, user)
    events = [item["obj"] for item in timeline if item["kind"] == "event"]
    transitions = workflow.allowed_transitions(ticket, user)
    forms = []
    for spec in transitions:
        if bound is not None and bound.spec is spec:
            forms.append(bound)
        else:
            forms.append(TransitionForm(spec=spec, ticket=ticket))
    rr = getattr(ticket, "repair_request", None) if hasattr(ticket, "repair_request") else None
    show_code = (
        user.is_merchant and ticket.merchant_id == user.merchant_id
        and ticket.status == S.READY_FOR_PICKUP and rr is not None
    )
    return {
        "ticket": ticket,
        "terminal": ticket.terminal,
        "timeline": timeline,
        "steps": _stepper(ticket, events),
        "transition_forms": forms,
        "repair_request": rr,
        "network_tests": selectors.network_tests(ticket) if rr is not None else [],
        "pickup_code": rr.pickup_code if show_code else "",
        "other_tickets": selectors.terminal_tickets(ticket.terminal, user).exclude(pk=ticket.pk)
        .select_related(None).only("service_order_no", "status", "created_at")[:10],
        "comment_form": comment_form or CommentForm(user=user, ticket=ticket),
        "attachment_form": attachment_form or AttachmentForm(user=user, ticket=ticket),
        "logged": request.GET.get("logged") == "1" and user.is_staff_role,
        "can_reissue_code": ticket.status == S.READY_FOR_PICKUP and any(
            workflow._refusal(t, ticket, user) is None for t in workflow.TRANSITIONS if t.target == S.PICKED_UP
        ),
    }


def _ticket_or_404(request, service_order_no):
    return get_object_or_404(selectors.ticket_for(request.user, service_order_no))


@login_required
def ticket_detail(request, service_order_no):
    ticket = _ticket_or_404(request, service_order_no)
    return render(request, "repairs/ticket_detail.html", _detail_context(request, ticket))


@login_required
@require_POST
def transition(request, service_order_no):
    """Make one transition; a refused or stale one changes nothing and says why."""
    ticket = _ticket_or_404(request, service_order_no)
    to = request.POST.get("to", "")
    spec = workflow.TABLE.get((ticket.status, to)) or next(
        (t for t in workflow.TRANSITIONS if t.target == to), None
    )
    if spec is None:
        messages.error(request, _("Unknown step: nothing was changed."))
        return redirect(ticket)
    form = TransitionForm(request.POST, spec=spec, ticket=ticket)
    if form.is_valid():
        try:
            workflow.ticket_transition(ticket=ticket, to=to, actor=request.user, **form.workflow_fields())
        except TransitionError as exc:
            if exc.code != "invalid":
                messages.error(request, f"{exc.message} {_nothing_changed()}")
                return redirect(ticket)
            _form_errors(form, exc)
        else:
            messages.success(
                request, _("Ticket %(no)s is now: %(status)s.") % {"no": ticket.service_order_no,
                                                                   "status": ticket.get_status_display()}
            )
            return redirect(ticket)
    ticket = _ticket_or_404(request, service_order_no)
    if workflow.TABLE.get((ticket.status, to)) is not spec:
        messages.error(request, _("The ticket changed meanwhile: reload and try again. Nothing was changed."))
        return redirect(ticket)
    messages.error(request, _("Please correct the fields marked below. Nothing was changed."))
    return render(request, "repairs/ticket_detail.html", _detail_context(request, ticket, bound=form), status=400)


@login_required
@require_POST
def comment(request, service_order_no):
    ticket = _ticket_or_404(request, service_order_no)
    form = CommentForm(request.POST, user=request.user, ticket=ticket)
    if form.is_valid():
        workflow.add_comment(
            ticket=ticket, author=request.user, body=form.cleaned_data["body"],
            is_public=form.cleaned_data.get("is_public", True),
        )
        messages.success(request, _("Comment added."))
        return redirect(f"{ticket.get_absolute_url()}#timeline")
    return render(request, "repairs/ticket_detail.html", _detail_context(request, ticket, comment_form=form), status=400)


@login_required
@require_POST
def attach(request, service_order_no):
    ticket = _ticket_or_404(request, service_order_no)
    form = AttachmentForm(request.POST, request.FILES, user=request.user, ticket=ticket)
    if form.is_valid():
        workflow.add_attachment(
            ticket=ticket, uploaded=form.cleaned_data["file"], content_type=form.cleaned_data["content_type"],
            actor=request.user, is_public=form.cleaned_data.get("is_public", True),
        )
        messages.success(request, _("File attached."))
        return redirect(f"{ticket.get_absolute_url()}#timeline")
    for error in form.errors.get("file", []):
        messages.error(request, error)
    return render(
        request, "repairs/ticket_detail.html", _detail_context(request, ticket, attachment_form=form), status=400
    )


@login_required
def attachment(request, pk):
    """A ticket's file, to those who may see it (private: never served from MEDIA_ROOT directly)."""
    item = get_object_or_404(TicketAttachment.objects.visible_to(request.user), pk=pk)
    response = FileResponse(item.file.open("rb"), content_type=item.content_type)
    ext = item.file.name.rsplit(".", 1)[-1]
    response["Content-Disposition"] = f'inline; filename="ticket-file-{item.pk}.{ext}"'
    response["Cache-Control"] = "private, no-store"
    return response


@role_required("agent", "engineer", "admin")
def repair_form(request, service_order_no):
    """The printable repair request form (维修申请单) of a ticket taken in at a branch."""
    ticket = _ticket_or_404(request, service_order_no)
    rr = selectors.repair_request(ticket)
    if rr is None:
        raise Http404
    return render(
        request, "repairs/repair_form.html",
        {"ticket": ticket, "rr": rr, "tests": selectors.network_tests(ticket)},
    )


@login_required
@require_POST
def reissue_code(request, service_order_no):
    ticket = _ticket_or_404(request, service_order_no)
    try:
        workflow.reissue_pickup_code(ticket=ticket, actor=request.user)
    except TransitionError as exc:
        messages.error(request, f"{exc.message} {_nothing_changed()}")
    else:
        messages.success(request, _("A new pickup code was issued: the merchant sees it on the ticket page."))
    return redirect(ticket)
