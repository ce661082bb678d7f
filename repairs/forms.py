"""Forms of the ticket pages. They check shapes; the workflow decides (and checks again)."""

from datetime import date, datetime, timedelta

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Layout, Row, Submit
from django import forms
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from portal.core.forms import ActionButton, StepForm
from portal.core.uploads import IMAGE_TYPES, check_upload
from repairs import selectors, workflow
from repairs.models import FaultTicket
from repairs.tracking import normalise_order_no, normalise_tag

ATTACHMENT_TYPES = {**IMAGE_TYPES, "application/pdf": "pdf"}


def contact_windows(merchant):
    """Suggested call-back windows outside the merchant's business hours (calls are best made then)."""
    def shift(t, minutes):
        return (datetime.combine(date.today(), t) + timedelta(minutes=minutes)).time()

    suggestions = []
    opens, closes = merchant.opens_at, merchant.closes_at
    if opens.hour >= 7:
        suggestions.append(
            _("%(start)s–%(end)s (before opening)") % {"start": f"{shift(opens, -60):%H:%M}", "end": f"{opens:%H:%M}"}
        )
    if closes.hour < 23:
        suggestions.append(
            _("%(start)s–%(end)s (after closing)") % {"start": f"{closes:%H:%M}", "end": f"{shift(closes, 60):%H:%M}"}
        )
    return suggestions


class TicketFieldsMixin:
    def _ticket_fields(self):
        self.fields["fault_type"] = forms.ChoiceField(label=_("Fault type"), choices=FaultTicket.FaultType.choices)
        self.fields["symptoms"] = forms.CharField(
            label=_("Symptoms"), max_length=4000,
            widget=forms.Textarea(attrs={"rows": 4, "placeholder": _("What does the terminal do? Any message on screen?")}),
        )
        self.fields["contact_window"] = forms.CharField(
            label=_("Preferred contact window"), max_length=100, required=False,
            help_text=_("When we may call you back; outside your business hours is best."),
            widget=forms.TextInput(attrs={"list": "contact-windows", "autocomplete": "off"}),
        )


class ReportForm(TicketFieldsMixin, forms.Form):
    """A merchant reports a fault on one of its own terminals."""

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["terminal"] = forms.ModelChoiceField(
            label=_("Terminal"), queryset=selectors.reportable_terminals(user), to_field_name="serial_number",
            empty_label=None,
        )
        self.fields["terminal"].label_from_instance = lambda t: f"{t.serial_number} · {t.model} · {t.tag_number}"
        self._ticket_fields()
        windows = contact_windows(user.merchant)
        self.contact_windows = windows
        if windows and not self.is_bound:
            self.initial.setdefault("contact_window", windows[0])
        self.helper = FormHelper()
        self.helper.attrs = {"data-testid": "report-form"}
        self.helper.add_input(Submit("submit", _("Report the fault")))


class LogCallForm(TicketFieldsMixin, forms.Form):
    """An agent logs a merchant's phone call as a ticket on the chosen terminal."""

    terminal = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, merchant=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._ticket_fields()
        self.fields["priority"] = forms.ChoiceField(
            label=_("Priority"), choices=FaultTicket.Priority.choices, initial=FaultTicket.Priority.NORMAL,
            help_text=_("“Cannot accept payments” is usually high."),
        )
        self.contact_windows = contact_windows(merchant) if merchant else []
        self.helper = FormHelper()
        self.helper.attrs = {"data-testid": "log-call-form"}
        self.helper.add_input(Submit("submit", _("Log the call")))


class TransitionForm(StepForm):
    """The form of one ticket step: exactly the fields the workflow table says it takes, plus the
    version the user saw (a step on a ticket changed meanwhile is refused as stale)."""

    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, spec, ticket, **kwargs):
        kwargs.setdefault("initial", {})["version"] = ticket.version
        super().__init__(*args, machine=workflow.MACHINE, transition=spec, obj=ticket,
                         action=reverse("tickets:transition", args=[ticket.service_order_no]), **kwargs)
        self.spec = spec

    def prepare(self, ticket):
        if "branch" in self.fields:
            field = self.fields["branch"]
            self.fields["branch"] = forms.ChoiceField(
                label=field.label, required=field.required,
                choices=[(b.code, f"{b.code} {b.name} · {b.city} · {b.address}")
                         for b in selectors.branches_for_escalation(ticket)],
                help_text=_("Branches in the merchant's city come first."),
            )
        if "pickup_code" in self.fields:
            self.fields["pickup_code"].widget.attrs["inputmode"] = "numeric"
        if "diagnosis" in self.fields or "work_done" in self.fields:
            for name in ("diagnosis", "work_done"):
                if name in self.fields:
                    self.fields[name].widget.attrs["rows"] = 3

    def workflow_fields(self):
        return {**self.step_fields(), "version": self.cleaned_data.get("version")}


class CommentForm(forms.Form):
    body = forms.CharField(label=_("Comment"), max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))
    # Staff notes (e.g. remote diagnosis notes) stay internal unless ticked.
    is_public = forms.BooleanField(label=_("Visible to the merchant"), required=False, initial=False)

    def __init__(self, *args, user, ticket, **kwargs):
        kwargs.setdefault("auto_id", "id_comment_%s")  # the attachment form has an is_public too
        super().__init__(*args, **kwargs)
        if not user.is_staff_role:
            del self.fields["is_public"]
        else:
            self.fields["body"].label = _("Diagnosis note or comment")
        self.helper = FormHelper()
        self.helper.form_action = reverse("tickets:comment", args=[ticket.service_order_no])
        self.helper.attrs = {"data-testid": "comment-form"}
        self.helper.add_input(ActionButton("submit", _("Add comment"), css_class="btn-outline-primary"))


class AttachmentForm(forms.Form):
    file = forms.FileField(
        label=_("Photo or PDF (JPEG, PNG or PDF)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".jpg,.jpeg,.png,.pdf"}),
    )
    is_public = forms.BooleanField(label=_("Visible to the merchant"), required=False, initial=True)

    def __init__(self, *args, user, ticket, **kwargs):
        kwargs.setdefault("auto_id", "id_attachment_%s")
        super().__init__(*args, **kwargs)
        if not user.is_staff_role:
            del self.fields["is_public"]
        self.helper = FormHelper()
        self.helper.form_action = reverse("tickets:attach", args=[ticket.service_order_no])
        self.helper.attrs = {"data-testid": "attach-form"}
        self.helper.add_input(ActionButton("submit", _("Attach"), css_class="btn-outline-primary"))

    def clean_file(self):
        uploaded = self.cleaned_data["file"]
        self.cleaned_data["content_type"] = check_upload(uploaded, allowed=ATTACHMENT_TYPES)
        return uploaded


class TrackForm(forms.Form):
    no = forms.CharField(
        label=_("Service-order number"),
        max_length=40,
        widget=forms.TextInput(attrs={"placeholder": "SO20261124-0007", "autocomplete": "off"}),
    )
    tag = forms.CharField(
        label=_("Tag number"),
        max_length=60,
        help_text=_("On the asset tag of the terminal and on your repair receipt."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_method = "get"
        self.helper.form_tag = True
        self.helper.layout = Layout(
            Row(Column("no", css_class="col-md-5"), Column("tag", css_class="col-md-5")),
            Submit("", _("Track"), css_class="btn-primary"),
        )

    def clean_no(self):
        return normalise_order_no(self.cleaned_data["no"])

    def clean_tag(self):
        return normalise_tag(self.cleaned_data["tag"])


RATINGS = {
    5: _("Very satisfied"),
    4: _("Satisfied"),
    3: _("Neither satisfied nor dissatisfied"),
    2: _("Dissatisfied"),
    1: _("Very dissatisfied"),
}


def rating_choices():
    """5 to 1, each with its stars (decoration: the words say it) and what it means."""
    return [
        (n, format_html('<span class="rating-stars" aria-hidden="true">{}{}</span> {} — {}', "★" * n, "☆" * (5 - n),
                        n, RATINGS[n]))
        for n in RATINGS
    ]


class SatisfactionForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("How satisfied are you with this repair?"),
        help_text=_("5 stars is the best, 1 star the worst."),
        choices=rating_choices,
        coerce=int,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Comment (optional)"), required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False


class LoanForm(forms.Form):
    """Lend a loaner at intake: the device checked by serial and tag (repairs.loans.lend_loaner)."""

    serial_number = forms.CharField(label=_("Loaner serial number"), max_length=40)
    tag_number = forms.CharField(label=_("Loaner tag number"), max_length=40)
    tid = forms.CharField(label=_("TID set up on the loaner"), max_length=8, required=False)
    mid = forms.CharField(label=_("MID set up on the loaner"), max_length=15, required=False)
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class LoanReturnForm(forms.Form):
    """Account for the loaner at pickup (repairs.loans.return_loaner)."""

    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[("returned", _("Returned")), ("damaged", _("Returned damaged")), ("missing", _("Missing"))],
    )
    serial_number = forms.CharField(label=_("Loaner serial number"), max_length=40, required=False)
    tag_number = forms.CharField(label=_("Loaner tag number"), max_length=40, required=False)
    note = forms.CharField(label=_("Note"), max_length=300, required=False,
                           help_text=_("Needed when the loaner is missing or damaged."))


class LoanerInspectionForm(forms.Form):
    """The cleaning and inspection that puts a loaner back in the pool (terminals.loaners.back_to_pool)."""

    note = forms.CharField(label=_("Cleaning and inspection"), max_length=300)
