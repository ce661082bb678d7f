"""Ticket pages for merchants, agents and engineers. Thin: forms check, the workflow acts."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from portal.accounts.roles import role_required
from portal.accounts.selectors import document_checklist
from portal.core import ratelimit
from portal.core.pagination import paginate, querystring_without_page
from portal.core.uploads import file_response
from portal.core.views import bind_errors, refused, show_invalid
from portal.core.workflow import WorkflowError
from repairs import selectors, workflow
from repairs.forms import (
    AttachmentForm,
    CommentForm,
    LogCallForm,
    ReportForm,
    SatisfactionForm,
    TrackForm,
    TransitionForm,
)
from repairs.models import FaultTicket, TicketAttachment
from repairs.qr import qr_svg_document, tracking_url
from repairs.stages import ticket_steps
from repairs.tracking import find_public_ticket

# Who prints the repair request form (the branch and the call centre; reviewers never need it).
REPAIR_FORM_ROLES = ("agent", "engineer", "admin")

S = FaultTicket.Status


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
    tickets = selectors.queue(user, name, status=status, q=q)
    page = paginate(request, selectors.rows(tickets), counted=tickets)
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
        except WorkflowError as exc:
            bind_errors(form, exc)
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
            except WorkflowError as exc:
                bind_errors(form, exc)
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


def _stepper(ticket, events):
    """The stages the merchant follows (repairs.stages); a closed ticket shows the path it took."""
    previous = next((e.from_status for e in reversed(events) if e.to_status == S.CLOSED), None)
    return ticket_steps(ticket.status, previous)


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
    # Until a branch is chosen (its card then says the same), the merchant sees what to bring there.
    before_branch = user.is_merchant and ticket.status in (S.REPORTED, S.REMOTE_DIAGNOSIS)
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
        .select_related(None).only("service_order_no", "status", "created_at")[:10]
        if ticket.may_have("others") else [],
        "comment_form": comment_form or CommentForm(user=user, ticket=ticket),
        "attachment_form": attachment_form or AttachmentForm(user=user, ticket=ticket),
        "logged": request.GET.get("logged") == "1" and user.is_staff_role,
        "checklist": document_checklist(ticket.merchant) if before_branch else None,
        "can_print_form": rr is not None and (user.is_superuser or user.role in REPAIR_FORM_ROLES),
        "can_reissue_code": ticket.status == S.READY_FOR_PICKUP and any(
            workflow.MACHINE.refusal(t, ticket, user) is None for t in workflow.MACHINE.steps_to(S.PICKED_UP)
        ),
    }


def _ticket_or_404(request, service_order_no):
    return get_object_or_404(selectors.ticket_for(request.user, service_order_no))


@login_required
def ticket_detail(request, service_order_no):
    ticket = get_object_or_404(selectors.ticket_page(request.user, service_order_no))
    return render(request, "repairs/ticket_detail.html", _detail_context(request, ticket))


@login_required
@require_POST
def transition(request, service_order_no):
    """Make one step. Field errors show the form again (400); any other refusal (not allowed now,
    stale, forbidden) says why and changes nothing."""
    ticket = _ticket_or_404(request, service_order_no)
    to = request.POST.get("to", "")
    spec = workflow.MACHINE.transition(ticket.status, to) or next(iter(workflow.MACHINE.steps_to(to)), None)
    if spec is None:
        messages.error(request, _("Unknown step: nothing was changed."))
        return redirect(ticket)
    form = TransitionForm(request.POST, spec=spec, ticket=ticket)
    if not form.is_valid():
        messages.error(request, _("Please correct the fields marked below. Nothing was changed."))
    else:
        try:
            workflow.ticket_transition(ticket=ticket, to=to, actor=request.user, **form.workflow_fields())
        except WorkflowError as exc:
            if exc.code != "invalid":
                return refused(request, exc, ticket)
            show_invalid(request, form, exc)
        else:
            messages.success(
                request, _("Ticket %(no)s is now: %(status)s.") % {"no": ticket.service_order_no,
                                                                   "status": ticket.get_status_display()}
            )
            return redirect(ticket)
    ticket = _ticket_or_404(request, service_order_no)
    if workflow.MACHINE.transition(ticket.status, to) is not spec:
        messages.error(request, _("The ticket changed meanwhile: reload and try again. Nothing was changed."))
        return redirect(ticket)
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
    return file_response(item.file, content_type=item.content_type, stem=f"ticket-file-{item.pk}")


@role_required(*REPAIR_FORM_ROLES)
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
    except WorkflowError as exc:
        return refused(request, exc, ticket)
    else:
        messages.success(request, _("A new pickup code was issued: the merchant sees it on the ticket page."))
    return redirect(ticket)


# --- public tracking, the tracking QR code, the merchant's rating ----------------------------


@never_cache
@require_GET
def track(request):
    """Public tracking: no login; the same answer for an unknown number and a wrong tag."""
    form = TrackForm(request.GET or None)
    context = {"form": form, "looked_up": False, "ticket": None}
    if form.is_bound:
        verdict = ratelimit.hit("track", request, limit=settings.TRACK_LIMIT, window=settings.TRACK_WINDOW_SECONDS)
        if not verdict.allowed:
            context["limited_minutes"] = max(1, round(verdict.retry_after / 60))
            response = render(request, "repairs/track.html", context, status=429)
            response["Retry-After"] = str(verdict.retry_after)
            return _private(response)
        if form.is_valid():
            context["looked_up"] = True
            context["ticket"] = find_public_ticket(form.cleaned_data["no"], form.cleaned_data["tag"])
    return _private(render(request, "repairs/track.html", context))


def _private(response):
    """Tracking pages carry a tag number in the link: keep them out of shared caches, search engines
    and referrers. "strict-origin" sends only the site's origin, never the link; "no-referrer" would
    also make the browser send `Origin: null` with the page's own forms (the language switch), which
    CSRF protection rightly refuses."""
    response["Referrer-Policy"] = "strict-origin"
    response["X-Robots-Tag"] = "noindex"
    return response


@login_required
@require_GET
def ticket_qr(request, service_order_no):
    """The QR code of a ticket's tracking link as an SVG file, for those who may see the ticket."""
    ticket = _ticket_or_404(request, service_order_no)
    body = qr_svg_document(tracking_url(request, ticket), title=_("Track %(no)s") % {"no": ticket.service_order_no})
    response = HttpResponse(body, content_type="image/svg+xml")
    response["Cache-Control"] = "private, max-age=3600"
    return response


@login_required
@require_POST
def rate(request, service_order_no):
    """The merchant's satisfaction rating of a finished repair (the ticket page's rating panel)."""
    ticket = _ticket_or_404(request, service_order_no)
    form = SatisfactionForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            workflow.rate_ticket(ticket=ticket, actor=request.user, rating=form.cleaned_data["rating"],
                                 comment=form.cleaned_data["comment"])
        except WorkflowError as exc:
            if exc.code == "forbidden":
                raise PermissionDenied(exc.message) from exc
            error = exc.message
    else:
        error = _("Choose a rating from 1 to 5.")
    if request.htmx:
        # The panel swaps itself: the rating given, or the form again with the reason. htmx swaps
        # only 2xx answers, so the refusal travels in the content, not the status.
        return render(request, "repairs/_satisfaction_htmx.html", {"ticket": ticket, "error": error})
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("Thank you for rating the repair."))
    return redirect(ticket.get_absolute_url())


@role_required("agent", "admin")
def likely_faulty(request):
    """The monitoring queue: terminals their health reports flag, without an open ticket."""
    from repairs import monitoring

    page = paginate(request, monitoring.likely_faulty(request.user))
    return render(request, "repairs/likely_faulty.html", {
        "page": page,
        "silent_hours": settings.LIKELY_FAULTY_SILENT_HOURS,
        "repeats": settings.LIKELY_FAULTY_REPEATS,
    })


@role_required("agent", "admin")
@require_POST
def open_from_monitoring(request, serial_number):
    """Open a ticket (source "monitoring") for the merchant of a terminal of the queue."""
    from repairs import monitoring

    try:
        ticket = monitoring.open_monitoring_ticket(serial_number=serial_number, actor=request.user)
    except WorkflowError as exc:
        return refused(request, exc, "tickets:likely_faulty")
    messages.success(request, _("Ticket %(no)s opened; the merchant has been told.") % {"no": ticket.service_order_no})
    return redirect(ticket.get_absolute_url())
