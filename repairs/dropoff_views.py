"""The drop-off panel's two POSTs (book or move, cancel): thin; repairs.dropoff acts."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from portal.core.views import refused
from portal.core.workflow import WorkflowError
from repairs import dropoff, selectors


class DropoffForm(forms.Form):
    """The branch's free half-hours, grouped by day; the service checks the seat again, locked."""

    starts_at = forms.ChoiceField(label=gettext_lazy("Drop-off time"))

    def __init__(self, *args, ticket, **kwargs):
        super().__init__(*args, **kwargs)
        groups = []
        for day, slots in dropoff.published_slots(ticket.branch_id):
            label = formats.date_format(day, "DATE_FORMAT") + " " + formats.date_format(day, "l")
            options = [
                (slot.value, _("%(time)s (%(free)s free)") % {
                    "time": timezone.localtime(slot.starts_at).strftime("%H:%M"), "free": slot.free})
                for slot in slots if slot.free
            ]
            if options:
                groups.append((label, options))
        self.fields["starts_at"].choices = [("", _("Choose a time"))] + groups
        self.has_slots = bool(groups)

    def clean_starts_at(self):
        value = dropoff.parse_slot(self.cleaned_data["starts_at"])
        if value is None:
            raise forms.ValidationError(_("Choose one of the branch's half-hour slots."))
        return value


def _ticket(request, service_order_no):
    return get_object_or_404(selectors.ticket_for(request.user, service_order_no))


@login_required
@require_POST
def book(request, service_order_no):
    """Book the ticket's drop-off, or move it to another slot."""
    ticket = _ticket(request, service_order_no)
    try:
        dropoff.check_bookable(ticket, request.user)  # no form to correct: say why (or 403)
    except WorkflowError as exc:
        return refused(request, exc, ticket)
    form = DropoffForm(request.POST, ticket=ticket)
    if form.is_valid():
        try:
            booking = dropoff.book_slot(ticket=ticket, starts_at=form.cleaned_data["starts_at"], actor=request.user)
        except WorkflowError as exc:
            if exc.code != "invalid":
                return refused(request, exc, ticket)
            for field, errors in exc.field_errors.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            when = timezone.localtime(booking.starts_at).strftime("%Y-%m-%d %H:%M")
            messages.success(request, _("Drop-off booked: %(when)s.") % {"when": when})
            return redirect(f"{ticket.get_absolute_url()}#dropoff")
    from repairs.views import _detail_context

    context = _detail_context(request, ticket)
    context["dropoff_form"] = form
    messages.error(request, _("Please correct the fields marked below. Nothing was changed."))
    return render(request, "repairs/ticket_detail.html", context, status=400)


@login_required
@require_POST
def cancel(request, service_order_no):
    ticket = _ticket(request, service_order_no)
    try:
        dropoff.cancel_booking(ticket=ticket, actor=request.user)
    except WorkflowError as exc:
        return refused(request, exc, ticket)
    messages.success(request, _("The drop-off booking was cancelled."))
    return redirect(f"{ticket.get_absolute_url()}#dropoff")
