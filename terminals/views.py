"""Terminal pages: a merchant's own terminals, the staff registry, lifecycle actions, imports."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal.accounts.roles import reviewer_required, staff_required
from portal.core.exports import csv_response, streaming_csv_response
from portal.core.pagination import paginate, querystring_without_page
from portal.core.workflow import WorkflowError
from terminals import imports, loaners, selectors, services
from terminals.forms import (
    ActivateForm,
    DeregistrationForm,
    ImportForm,
    IssueForm,
    MaintenanceForm,
    TerminalFilter,
)
from terminals.models import MaintenanceRecord, Terminal

manager_required = reviewer_required


def _terminal(request, serial_number):
    return get_object_or_404(selectors.terminal_detail(request.user, serial_number))


@login_required
def my_terminals(request):
    """A merchant's terminals with their status and care dates."""
    if request.user.is_staff_role:
        return redirect("terminals:list")
    page = paginate(request, selectors.merchant_terminals(request.user))
    for terminal in page:
        terminal.care = selectors.care_status(terminal)
    on_loan = loaners.loaners_on_loan_to(request.user.merchant_id)
    return render(request, "terminals/my_terminals.html", {"page": page, "on_loan": on_loan})


@staff_required
def terminal_list(request):
    filterset = TerminalFilter(request.GET or None, queryset=selectors.terminals_for(request.user))
    page = paginate(request, filterset.qs)
    export_qs = querystring_without_page(request)
    return render(
        request,
        "terminals/terminal_list.html",
        {"filter": filterset, "page": page, "qs": export_qs, "can_manage": services.can_manage(request.user)},
    )


EXPORT_HEADER = (
    "serial_number", "tag_number", "model", "manufacturer", "channel", "merchant", "home_branch",
    "tid", "mid", "merchant_name", "status", "activated_on", "retired_on",
)


@staff_required
def terminal_export(request):
    """The filtered list as CSV, streamed row by row (column names as the import reads them)."""
    filterset = TerminalFilter(request.GET or None, queryset=selectors.terminals_for(request.user))
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return streaming_csv_response(f"terminals-{stamp}.csv", EXPORT_HEADER, selectors.export_rows(filterset.qs))


def _render_detail(request, terminal, status=200, **forms):
    user = request.user
    can_manage = services.can_manage(user)
    allowed = services.allowed_targets(terminal)
    context = {
        "terminal": terminal,
        "timeline": selectors.terminal_timeline(terminal, user),
        "care": selectors.care_status(terminal),
        "maintenance_kinds": MaintenanceRecord.Kind.choices
        if terminal.is_with_merchant
        else [(MaintenanceRecord.Kind.INSPECTION, MaintenanceRecord.Kind.INSPECTION.label)],
        "can_log": services.can_log_maintenance(terminal, user),
        "can_manage": can_manage,
        "deregistrations": selectors.deregistrations_for(user, terminal) if user.is_staff_role else [],
    }
    if user.is_staff_role:
        context.update(selectors.health_panel_context(terminal))
    if can_manage:
        S = Terminal.Status
        if terminal.status == S.IN_STOCK:
            context["issue_form"] = forms.get("issue_form") or IssueForm(terminal=terminal)
        if S.ACTIVE in allowed and terminal.status == S.PENDING_ACTIVATION:
            context["activate_form"] = forms.get("activate_form") or ActivateForm(terminal=terminal)
        context["can_restock"] = S.IN_STOCK in allowed
        context["can_deregister"] = bool(allowed & {S.DEREGISTERED, S.DESTROYED})
    return render(request, "terminals/terminal_detail.html", context, status=status)


@login_required
def terminal_detail(request, serial_number):
    return _render_detail(request, _terminal(request, serial_number))


@login_required
@require_POST
def log_maintenance(request, serial_number):
    """One click per kind from the terminal page."""
    terminal = _terminal(request, serial_number)
    form = MaintenanceForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Unknown kind of maintenance."))
        return redirect(terminal)
    try:
        record = services.log_maintenance(terminal=terminal, kind=form.cleaned_data["kind"], actor=request.user)
    except WorkflowError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("%(kind)s recorded at %(time)s.")
            % {"kind": record.get_kind_display(), "time": timezone.localtime(record.done_at).strftime("%H:%M")},
        )
    return redirect(terminal)


@manager_required
@require_POST
def issue(request, serial_number):
    terminal = _terminal(request, serial_number)
    form = IssueForm(request.POST, terminal=terminal)
    if form.is_valid():
        try:
            services.issue_to_merchant(
                terminal=terminal,
                merchant=form.cleaned_data["merchant"],
                home_branch=form.cleaned_data["home_branch"],
                note=form.cleaned_data["note"],
                actor=request.user,
            )
        except WorkflowError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _("Terminal %(serial)s issued to %(merchant)s; it awaits activation.")
                % {"serial": terminal.serial_number, "merchant": form.cleaned_data["merchant"].name},
            )
            return redirect(terminal)
    return _render_detail(request, terminal, status=400, issue_form=form)


@manager_required
@require_POST
def activate(request, serial_number):
    terminal = _terminal(request, serial_number)
    form = ActivateForm(request.POST, terminal=terminal)
    if form.is_valid():
        try:
            services.activate(terminal=terminal, actor=request.user, **form.cleaned_data)
        except WorkflowError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Terminal %(serial)s is active.") % {"serial": terminal.serial_number})
            return redirect(terminal)
    return _render_detail(request, terminal, status=400, activate_form=form)


@manager_required
@require_POST
def restock(request, serial_number):
    terminal = _terminal(request, serial_number)
    try:
        services.return_to_stock(terminal=terminal, actor=request.user, note=request.POST.get("note", "")[:300])
    except WorkflowError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Terminal %(serial)s is back in stock.") % {"serial": terminal.serial_number})
    return redirect(terminal)


@manager_required
def deregister(request, serial_number):
    """Two steps: the form, then a summary to confirm; recording it cannot be undone."""
    terminal = _terminal(request, serial_number)
    form = DeregistrationForm(request.POST or None)
    confirming = False
    if request.method == "POST" and form.is_valid():
        if form.cleaned_data["confirmed"]:
            data = form.cleaned_data
            try:
                services.deregister(
                    terminal=terminal,
                    method=data["method"],
                    certificate_number=data["certificate_number"],
                    witness=data["witness"],
                    date=data["date"],
                    actor=request.user,
                )
            except WorkflowError as exc:
                messages.error(request, exc.message)
                return redirect(terminal)
            messages.success(
                request, _("Terminal %(serial)s: deregistration recorded.") % {"serial": terminal.serial_number}
            )
            return redirect(terminal)
        confirming = True
    return render(
        request,
        "terminals/deregister.html",
        {"terminal": terminal, "form": form, "confirming": confirming},
        status=400 if request.method == "POST" and form.errors else 200,
    )


# --- Imports -----------------------------------------------------------------------------------


@manager_required
def import_new(request):
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        job = services.create_import_job(
            uploaded=form.cleaned_data["file"], file_format=form.cleaned_data["format"], actor=request.user
        )
        return redirect(job)
    page = paginate(request, selectors.import_jobs_for(request.user), per_page=10)
    return render(
        request,
        "terminals/import_new.html",
        {"form": form, "page": page, "columns": imports.COLUMNS},
        status=400 if form.errors else 200,
    )


def _job(request, pk):
    if not services.can_manage(request.user):
        raise PermissionDenied
    return get_object_or_404(selectors.import_jobs_for(request.user), pk=pk)


@login_required
def import_detail(request, pk):
    job = _job(request, pk)
    return render(request, "terminals/import_detail.html", {"job": job, **_report(request, job)})


@login_required
def import_progress(request, pk):
    """The htmx partial polled every second while the job runs."""
    job = _job(request, pk)
    return render(request, "terminals/_import_progress.html", {"job": job, **_report(request, job)})


def _report(request, job):
    if not job.is_finished:
        return {}
    return {"errors_page": paginate(request, job.errors, per_page=100)}


@manager_required
def import_template(request):
    return csv_response("terminal-import-template.csv", imports.COLUMNS, imports.TEMPLATE_ROWS)
