"""Loaner pages: the panel's lend and return steps, the branch pool and a loaner's history.

Each step calls the same service as its API twin (repairs.loans, terminals.loaners). A refused
step changes nothing: field errors show the form again (400), anything else says why.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal.accounts.models import Role
from portal.accounts.roles import role_required
from portal.core.pagination import paginate
from portal.core.views import bind_errors, refused
from portal.core.workflow import WorkflowError
from repairs import loans, selectors
from repairs.forms import LoanerInspectionForm, LoanForm, LoanReturnForm
from terminals import loaners as pool


def loaner_panel(request, ticket, *, lend_form=None, return_form=None):
    """The ticket's loaner: the merchant's notice, the engineer's lend or return form
    (`{% loaner_panel ticket %}` on the ticket page)."""
    user = request.user
    ticket_loans = loans.ticket_loans(ticket, user)
    current = next((loan for loan in ticket_loans if loan.is_out), None)
    staff = loans.may_handle(ticket, user)
    can_lend = staff and current is None and ticket.status in loans.LEND_STATUSES
    if not ticket_loans and not can_lend:
        return ""
    return mark_safe(render_to_string("repairs/_loaner_panel.html", {
        "ticket": ticket,
        "loans": ticket_loans,
        "current": current,
        "notice": loans.notice(current) if current else None,
        "can_lend": can_lend,
        "can_return": staff and current is not None,
        "lend_form": lend_form or (LoanForm() if can_lend else None),
        "return_form": return_form or (LoanReturnForm() if staff and current else None),
        "is_merchant": user.is_merchant,
    }, request=request))  # noqa: S308 - an auto-escaping template


def _step(request, service_order_no, form_class, action, kind):
    ticket = get_object_or_404(selectors.ticket_for(request.user, service_order_no))
    form = form_class(request.POST)
    if form.is_valid():
        try:
            loan = action(ticket=ticket, actor=request.user, **form.cleaned_data)
        except WorkflowError as exc:
            if exc.code != "invalid":
                return refused(request, exc, ticket)
            bind_errors(form, exc)
        else:
            messages.success(request, _("Loaner %(serial)s: %(outcome)s.") % {
                "serial": loan.serial_number, "outcome": loan.get_outcome_display()})
            return redirect(f"{ticket.get_absolute_url()}#loaner")
    messages.error(request, _("Please correct the fields marked below. Nothing was changed."))
    panel = loaner_panel(request, ticket, **{kind: form})
    return render(request, "repairs/loaner_step.html", {"ticket": ticket, "panel": panel}, status=400)


@login_required
@require_POST
def lend(request, service_order_no):
    return _step(request, service_order_no, LoanForm, loans.lend_loaner, "lend_form")


@login_required
@require_POST
def give_back(request, service_order_no):
    return _step(request, service_order_no, LoanReturnForm, loans.return_loaner, "return_form")


@role_required(Role.ENGINEER, Role.ADMIN)
def pool_page(request):
    """The loaner pool: stock per branch, each loaner's state and its current loan."""
    page = paginate(request, pool.pool_for(request.user))
    loaners = list(page)
    out = loans.current_loans(loaners)
    for loaner in loaners:
        loaner.current_loan = out.get(loaner.pk)
    return render(request, "repairs/loaner_pool.html", {
        "stock": pool.stock_per_branch(request.user),
        "loaners": loaners,
        "page": page,
        "utilisation": loans.utilisation(request.user),
        "inspection_form": LoanerInspectionForm(),
        "states": pool.L,
    })


def _loaner_or_404(request, serial_number):
    loaner = pool.pool_for(request.user).filter(serial_number=serial_number).first()
    if loaner is None:
        raise Http404
    return loaner


@role_required(Role.ENGINEER, Role.ADMIN)
def loaner_history(request, serial_number):
    """One loaner: every loan, who had it, for which ticket, and how it came back."""
    loaner = _loaner_or_404(request, serial_number)
    return render(request, "repairs/loaner_history.html", {
        "loaner": loaner,
        "loans": paginate(request, loans.loaner_history(loaner)),
        "inspection_form": LoanerInspectionForm(),
        "states": pool.L,
    })


@role_required(Role.ENGINEER, Role.ADMIN)
@require_POST
def inspect(request, serial_number):
    loaner = _loaner_or_404(request, serial_number)
    form = LoanerInspectionForm(request.POST)
    if form.is_valid():
        try:
            pool.back_to_pool(loaner=loaner, actor=request.user, note=form.cleaned_data["note"])
        except WorkflowError as exc:
            if exc.code != "invalid":
                return refused(request, exc, "tickets:loaner_pool")
            bind_errors(form, exc)
        else:
            messages.success(request, _("Loaner %(serial)s is back in the pool.") % {"serial": loaner.serial_number})
            return redirect("tickets:loaner_pool")
    return render(request, "repairs/loaner_history.html", {
        "loaner": loaner, "loans": paginate(request, loans.loaner_history(loaner)), "inspection_form": form, "states": pool.L,
    }, status=400)
