from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from applications import selectors, workflow
from applications.forms import (
    ApplyForm,
    DeregistrationForm,
    DocumentForm,
    InspectionForm,
    QueueFilterForm,
    TransitionForm,
    VerdictForm,
    VolumeForm,
    plan_description,
)
from applications.models import Application, ApplicationDocument, DocumentAccessLog
from portal.accounts.roles import reviewer_required, role_required
from portal.core.pagination import paginate, querystring_without_page
from portal.core.uploads import file_response
from portal.core.views import bind_errors, refused, show_invalid
from portal.core.workflow import WorkflowError
from terminals.models import Terminal


def _require_reviewer(request):
    """Called after the object is found: another merchant's object is a 404 before any 403."""
    if not request.user.is_reviewer_or_admin:
        raise PermissionDenied


def _get(request, number):
    return get_object_or_404(Application.objects.visible_to(request.user), number=number)


def _flash_form_errors(request, form):
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)


@login_required
def application_list(request):
    page = paginate(request, selectors.with_deposit_totals(selectors.applications_for(request.user)))
    rows = [{"application": a, "deposit": selectors.deposit_progress_of(a)} for a in page.object_list]
    return render(request, "applications/list.html", {
        "page": page, "rows": rows, "replaceable": selectors.replaceable_tickets(request.user),
    })


@role_required("merchant")
def apply(request):
    ticket = None
    ticket_no = request.GET.get("ticket") or request.POST.get("ticket")
    if ticket_no:
        from repairs.models import FaultTicket

        ticket = get_object_or_404(
            FaultTicket.objects.visible_to(request.user).select_related("terminal__channel"),
            service_order_no=ticket_no,
        )
    form = ApplyForm(request.POST or None, ticket=ticket)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            application = workflow.create_application(
                actor=request.user,
                kind=Application.Kind.REPLACEMENT if ticket else data["kind"],
                ticket=ticket,
                channel=data["channel"],
                quantity=1 if ticket else data["quantity"],
                fee_plan=data["fee_plan"],
                remarks=data["remarks"],
            )
        except WorkflowError as exc:
            bind_errors(form, exc)
        else:
            messages.success(
                request,
                _("Application %(number)s created. Upload the documents, then submit it.")
                % {"number": application.number},
            )
            return redirect(application)
    return render(
        request,
        "applications/apply.html",
        {"form": form, "ticket": ticket},
    )


def _detail_context(request, application, bound=None):
    user = request.user
    is_reviewer = user.is_reviewer_or_admin
    transition_forms = [
        bound if bound is not None and bound.transition is t else TransitionForm(application=application, transition=t)
        for t in workflow.allowed_transitions(application, user)
    ]
    old_terminal = application.old_terminal
    documents = selectors.documents_by_kind(application)
    context = {
        "application": application,
        "documents": documents,
        # What still stands in the way of submitting: a document missing, or one rejected.
        "documents_to_upload": [
            item["label"] for item in documents
            if item["document"] is None or item["document"].verdict == ApplicationDocument.Verdict.REJECTED
        ],
        "events": application.events.all(),
        "assigned": application.terminals.all(),
        "transition_forms": transition_forms,
        "path": _path(application),
        "plan_text": plan_description(application.fee_plan, application.plan_terms()),
        "deposit": selectors.deposit_for(application),
        "can_upload": application.status in workflow.UPLOAD_STATES
        and (is_reviewer or (user.is_merchant and user.merchant_id == application.merchant_id)),
        "is_reviewer": is_reviewer,
        "max_upload": settings.MAX_UPLOAD_BYTES,
        "old_terminal": old_terminal,
        "old_deregistrations": list(old_terminal.deregistrations.all()) if old_terminal else [],
    }
    if context["can_upload"]:
        context["document_form"] = DocumentForm(application=application)
    if is_reviewer:
        if application.status == Application.Status.INSPECTION:
            context["inspection_form"] = InspectionForm(instance=application)
        if (
            old_terminal is not None
            and not context["old_deregistrations"]
            and application.status in (Application.Status.APPROVED, Application.Status.CONTRACT_SIGNED,
                                       Application.Status.DEVICE_ASSIGNED)
        ):
            context["deregistration_form"] = DeregistrationForm(application=application)
        if context["deposit"] or application.status == Application.Status.ACTIVATED:
            context["volume_form"] = VolumeForm(application=application)
            context["volumes"] = selectors.volumes_for(application)
        context["verdict_choices"] = VerdictForm().fields["verdict"].choices
    return context


@login_required
def detail(request, number):
    application = get_object_or_404(selectors.application_detail(request.user, number))
    return render(request, "applications/detail.html", _detail_context(request, application))


def _path(application):
    """The happy path with done/current markers (the stepper)."""
    steps = []
    path = list(Application.PATH)
    status = application.status
    position = path.index(status) if status in path else None
    if status == Application.Status.NEEDS_INFO:
        position = path.index(Application.Status.SUBMITTED)
    for i, code in enumerate(path):
        state = ""
        if position is not None and i < position:
            state = "done"
        elif position is not None and i == position and status in path:
            state = "current"
        steps.append({"code": code, "label": Application.Status(code).label, "state": state})
    return steps


@login_required
@require_POST
def transition(request, number):
    """Make one step. Field errors show the form again (400); any other refusal (not allowed now,
    forbidden) says why and changes nothing."""
    application = _get(request, number)
    to = request.POST.get("to", "")
    t = workflow.MACHINE.transition(application.status, to)
    if t is None:
        messages.error(request, _("This change is no longer possible: the application is %(status)s. "
                                  "Nothing was changed.") % {"status": application.get_status_display()})
        return redirect(application)
    form = TransitionForm(request.POST, application=application, transition=t)
    if not form.is_valid():
        messages.error(request, _("Please correct the fields marked below. Nothing was changed."))
    else:
        try:
            workflow.application_transition(application=application, to=to, actor=request.user,
                                            **form.step_fields())
        except WorkflowError as exc:
            if exc.code != "invalid":
                return refused(request, exc, application)
            show_invalid(request, form, exc)
        else:
            messages.success(request, _("Application %(number)s is now: %(status)s.")
                             % {"number": application.number, "status": application.get_status_display()})
            return redirect(application)
    application = get_object_or_404(selectors.application_detail(request.user, number))
    return render(request, "applications/detail.html", _detail_context(request, application, bound=form),
                  status=400)


@login_required
@require_POST
def document_upload(request, number):
    application = _get(request, number)
    form = DocumentForm(request.POST, request.FILES, application=application)
    if form.is_valid():
        try:
            workflow.add_document(
                application=application,
                kind=form.cleaned_data["kind"],
                uploaded=form.cleaned_data["file"],
                content_type=form.cleaned_data["content_type"],
                actor=request.user,
            )
        except WorkflowError as exc:
            return refused(request, exc, application)
        else:
            messages.success(request, _("Document uploaded."))
    else:
        _flash_form_errors(request, form)
    return redirect(application)


@login_required
def document(request, pk):
    """Stream one document inline, to those who may see its application; every view is logged."""
    doc = get_object_or_404(ApplicationDocument.objects.visible_to(request.user).select_related("application"), pk=pk)
    DocumentAccessLog.objects.create(document=doc, user=request.user, ip_address=request.META.get("REMOTE_ADDR"))
    response = file_response(doc.file, content_type=doc.content_type, stem=f"{doc.application.number}-{doc.kind}")
    # The PDF viewer runs in a frame of our own page; nothing else may frame the file.
    response["X-Frame-Options"] = "SAMEORIGIN"
    response["Content-Security-Policy"] = (
        "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'"
        if doc.is_image
        else "frame-ancestors 'self'"  # a stricter policy would stop the browser's PDF viewer
    )
    return response


@login_required
def document_viewer(request, pk):
    """The reviewer's viewer: the file inline beside the verify/reject form and its access log."""
    doc = get_object_or_404(
        ApplicationDocument.objects.visible_to(request.user).select_related("application__merchant", "uploaded_by"),
        pk=pk,
    )
    log = doc.access_log.select_related("user")[:20] if request.user.is_staff_role else []
    return render(request, "applications/document_viewer.html", {
        "doc": doc, "application": doc.application, "log": log,
        "can_judge": doc.application.status == Application.Status.UNDER_REVIEW
        and request.user.is_reviewer_or_admin,
    })


@login_required
@require_POST
def document_verdict(request, pk):
    doc = get_object_or_404(ApplicationDocument.objects.visible_to(request.user).select_related("application"), pk=pk)
    _require_reviewer(request)
    form = VerdictForm(request.POST)
    if form.is_valid():
        try:
            workflow.judge_document(document=doc, verdict=form.cleaned_data["verdict"], actor=request.user,
                                    reason=form.cleaned_data["reason"])
        except WorkflowError as exc:
            return refused(request, exc, doc.application)
        else:
            messages.success(request, _("%(document)s: %(verdict)s.") % {
                "document": doc.get_kind_display(),
                "verdict": ApplicationDocument.Verdict(form.cleaned_data["verdict"]).label})
    else:
        messages.error(request, _("Verify or reject the document."))
    return redirect(doc.application)


@login_required
@require_POST
def inspection(request, number):
    application = _get(request, number)
    _require_reviewer(request)
    form = InspectionForm(request.POST, instance=Application.objects.get(pk=application.pk))
    if form.is_valid():
        try:
            workflow.record_inspection(application=application, actor=request.user, **form.cleaned_data)
        except WorkflowError as exc:
            return refused(request, exc, application)
        else:
            messages.success(request, _("Inspection record saved."))
    else:
        for field, errors in form.errors.items():
            for error in errors:
                messages.error(request, f"{form.fields[field].label}: {error}" if field in form.fields else error)
    return redirect(application)


@login_required
@require_POST
def deregistration(request, number):
    application = _get(request, number)
    _require_reviewer(request)
    form = DeregistrationForm(request.POST, application=application)
    if form.is_valid():
        try:
            workflow.record_old_terminal_deregistration(application=application, actor=request.user,
                                                        **form.cleaned_data)
        except WorkflowError as exc:
            return refused(request, exc, application)
        else:
            messages.success(request, _("The old terminal's deregistration is recorded."))
    else:
        _flash_form_errors(request, form)
    return redirect(application)


@login_required
@require_POST
def volume(request, number):
    application = _get(request, number)
    _require_reviewer(request)
    form = VolumeForm(request.POST, application=application)
    if form.is_valid():
        terminal = get_object_or_404(Terminal.objects.filter(applications=application),
                                     serial_number=form.cleaned_data["terminal"])
        try:
            workflow.record_volume(terminal=terminal, month=form.cleaned_data["month"],
                                   amount=form.cleaned_data["amount"], actor=request.user)
        except WorkflowError as exc:
            return refused(request, exc, application)
        else:
            messages.success(request, _("Card volume recorded."))
    else:
        _flash_form_errors(request, form)
    return redirect(application)


@login_required
@require_POST
def refund(request, number):
    application = _get(request, number)
    _require_reviewer(request)
    try:
        workflow.refund_deposit(application=application, actor=request.user)
    except WorkflowError as exc:
        return refused(request, exc, application)
    else:
        messages.success(request, _("The deposit refund is recorded."))
    return redirect(application)


@login_required
def deposit_progress(request, number):
    """The deposit progress bar alone (htmx refresh)."""
    application = _get(request, number)
    return render(request, "applications/_deposit.html", {
        "application": application, "deposit": selectors.deposit_for(application),
        "is_reviewer": request.user.is_reviewer_or_admin,
    })


@reviewer_required
def queue(request):
    form = QueueFilterForm(request.GET or None)
    filters = {"status": "", "channel": "", "kind": ""}
    if form.is_valid():
        data = form.cleaned_data
        filters = {"status": data["status"], "channel": data["channel"].code if data["channel"] else "",
                   "kind": data["kind"]}
    page = paginate(request, selectors.review_queue(request.user, **filters))
    return render(request, "applications/queue.html",
                  {"form": form, "page": page, "qs": querystring_without_page(request)})
